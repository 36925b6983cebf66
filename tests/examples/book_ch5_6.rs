//! Chapters 5 and 6 the way the book's Python reads: MNIST, the gradient check, a 784-100-100-10
//! ReLU net with batch norm, dropout and weight decay, Adam, accuracies, and the model saved and
//! read back. `cargo run --release -p scratchnet-integration-tests --example book_ch5_6`
use std::error::Error;
use std::path::Path;

use scratchnet_mnist::{LoadOptions, load_mnist, random_batch};
use scratchnet_network::optimizer::{Adam, Optimizer};
use scratchnet_network::{Activation, Net, NetSpec, WeightInit};
use scratchnet_tensor::rng_from_seed;

fn main() {
    // An error prints as its sentence (a missing MNIST says how to fetch it), where
    // `fn main() -> Result<(), Box<dyn Error>>` would print its Debug form.
    if let Err(e) = run(&scratchnet_mnist::default_dir(), 6000) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// What one run measured.
pub struct Report {
    pub max_diff: f64,
    pub test_acc: f64,
}

pub fn run(dir: &Path, iters_num: usize) -> Result<Report, Box<dyn Error>> {
    // (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
    let opts = LoadOptions {
        normalize: true,
        flatten: true,
        one_hot_label: false,
    };
    let data = load_mnist::<f64>(dir, opts)?;
    let (train, test) = (&data.train, &data.test);
    println!("x_train.shape = {:?}", train.images.shape());

    // network = MultiLayerNetExtend(input_size=784, hidden_size_list=[100, 100], output_size=10,
    //     activation='relu', weight_init_std='he', weight_decay_lambda=0.001,
    //     use_dropout=True, dropout_ration=0.2, use_batchnorm=True)
    let spec = NetSpec::multi_layer_net_extend(
        784,
        &[100, 100],
        10,
        Activation::Relu,
        WeightInit::He,
        0.001,
        Some(0.2),
        true,
    );
    let mut rng = rng_from_seed(0); // np.random.seed(0), passed where randomness is drawn
    let mut network = Net::<f64>::new(spec.clone(), &mut rng)?;

    // gradient_check.py: x_batch = x_train[:3]; t_batch = t_train[:3]
    let batch = train.batch(0..3);
    // the same dropout masks for both: two generators from one seed
    let grad_numerical =
        network.numerical_gradient(&batch.images, &batch.labels, &mut rng_from_seed(1));
    let grad_backprop = network.gradient(&batch.images, &batch.labels, &mut rng_from_seed(1));
    let mut max_diff: f64 = 0.0;
    for (key, numerical) in grad_numerical.iter() {
        // diff = np.average(np.abs(grad_backprop[key] - grad_numerical[key]))
        let diff = (&grad_backprop[key] - numerical)
            .mapv(f64::abs)
            .mean()
            .unwrap_or(0.0);
        println!("{key}: {diff:.3e}");
        max_diff = max_diff.max(diff);
    }

    // optimizer = Adam(lr=0.001)
    let mut optimizer = Adam::new(0.001);
    let (train_size, batch_size) = (train.len(), 100);
    let iter_per_epoch = (train_size / batch_size).max(1);
    let mut test_acc = 0.0;
    for i in 0..iters_num {
        // batch_mask = np.random.choice(train_size, batch_size)
        let batch_mask = random_batch(&mut rng, train_size, batch_size);
        // x_batch = x_train[batch_mask]; t_batch = t_train[batch_mask]
        let batch = train.batch(&batch_mask);
        // grads = network.gradient(x_batch, t_batch)
        let grads = network.gradient(&batch.images, &batch.labels, &mut rng);
        // optimizer.update(network.params, grads)
        optimizer.update(&mut network, &grads);

        if i % iter_per_epoch == 0 || i + 1 == iters_num {
            let loss = network.loss(&batch.images, &batch.labels);
            let train_acc = network.accuracy(&train.images, &train.labels);
            test_acc = network.accuracy(&test.images, &test.labels);
            println!("iter {i}: loss {loss:.4}, train acc {train_acc:.4}, test acc {test_acc:.4}");
        }
    }

    // network.save_params("params.pkl"), then load_params: model.bin keeps the spec too;
    // .npz is for NumPy (np.load) and needs the spec to be read back; safetensors keeps it
    let folder = std::env::temp_dir().join(format!("book_ch5_6-{}", std::process::id()));
    std::fs::create_dir_all(&folder)?;
    let path = folder.join("model.bin");
    network.save(&path)?;
    assert_eq!(Net::<f64>::load(&path)?, network);
    network.export_npz(folder.join("model.npz"))?;
    assert_eq!(
        Net::<f64>::import_npz(spec, folder.join("model.npz"))?,
        network
    );
    network.export_safetensors(folder.join("model.safetensors"))?;
    assert_eq!(
        Net::<f64>::import_safetensors(folder.join("model.safetensors"))?,
        network
    );
    println!("saved and read back: {}", folder.display());
    std::fs::remove_dir_all(&folder)?;
    Ok(Report { max_diff, test_acc })
}
