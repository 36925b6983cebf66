//! Every format the crate writes is read back by the crate: model.bin, .npz (with its spec) and
//! safetensors (spec in its header); a file of one format given to another's reader says which
//! reader it needs.

use ndarray::Array2;
use scratchnet_network::{Activation, Net, NetSpec, WeightInit, optimizer::Adam};
use scratchnet_tensor::rng_from_seed;

/// A batch-norm + dropout + λ net after a few Adam steps, so that the running statistics are
/// not their initial values.
fn trained() -> (NetSpec, Net<f64>) {
    let spec = NetSpec::multi_layer_net_extend(
        12,
        &[8, 6],
        3,
        Activation::Relu,
        WeightInit::He,
        0.1,
        Some(0.2),
        true,
    );
    let mut rng = rng_from_seed(4);
    let mut net = Net::<f64>::new(spec.clone(), &mut rng).unwrap();
    let x = Array2::from_shape_fn((10, 12), |(i, j)| ((i * 7 + j * 3) % 5) as f64 / 4.0);
    let t: Vec<usize> = (0..10).map(|i| i % 3).collect();
    let mut adam = Adam::new(0.01);
    for _ in 0..5 {
        let g = net.gradient(&x, &t, &mut rng);
        net.update(&mut adam, &g);
    }
    assert!(
        net.state()
            .iter()
            .any(|(_, a)| a.iter().any(|&v| v != 0.0 && v != 1.0))
    );
    (spec, net)
}

#[test]
fn every_format_written_is_read_back_with_its_running_statistics() {
    let (spec, net) = trained();
    let dir = tempfile::tempdir().unwrap();
    let (bin, npz, st) = (
        dir.path().join("model.bin"),
        dir.path().join("model.npz"),
        dir.path().join("model.safetensors"),
    );
    net.save(&bin).unwrap();
    net.export_npz(&npz).unwrap();
    net.export_safetensors(&st).unwrap();
    assert_eq!(Net::<f64>::load(&bin).unwrap(), net);
    assert_eq!(Net::<f64>::import_npz(spec.clone(), &npz).unwrap(), net);
    let back = Net::<f64>::import_safetensors(&st).unwrap();
    assert_eq!(back, net);
    assert_eq!(back.spec(), &spec, "λ and init travel in the header");
}

#[test]
fn a_file_of_another_format_names_the_reader_it_needs() {
    let (_, net) = trained();
    let dir = tempfile::tempdir().unwrap();
    let (npz, st) = (
        dir.path().join("model.npz"),
        dir.path().join("model.safetensors"),
    );
    net.export_npz(&npz).unwrap();
    net.export_safetensors(&st).unwrap();
    let e = Net::<f64>::load(&npz).unwrap_err().to_string();
    assert!(
        e.contains("model.npz") && e.contains("Net::import_npz"),
        "{e}"
    );
    assert!(!e.contains("magic"), "{e}");
    let e = Net::<f64>::load(&st).unwrap_err().to_string();
    assert!(e.contains("Net::import_safetensors"), "{e}");
    let e = Net::<f64>::import_safetensors(&npz)
        .unwrap_err()
        .to_string();
    assert!(e.contains("model.npz") && e.contains("safetensors"), "{e}");
}

#[test]
fn a_safetensors_file_declaring_more_than_its_spec_needs_is_refused_before_it_is_read() {
    let (_, net) = trained();
    let dir = tempfile::tempdir().unwrap();
    let st = dir.path().join("model.safetensors");
    net.export_safetensors(&st).unwrap();
    // a sparse tail of 3 GiB: refused from the file's length and the spec alone
    let f = std::fs::OpenOptions::new().write(true).open(&st).unwrap();
    f.set_len(3 << 30).unwrap();
    let e = Net::<f64>::import_safetensors(&st).unwrap_err().to_string();
    assert!(e.contains("more than its spec's tensors can need"), "{e}");
    // a header longer than any export's
    std::fs::write(&st, (u64::MAX / 2).to_le_bytes()).unwrap();
    let e = Net::<f64>::import_safetensors(&st).unwrap_err().to_string();
    assert!(e.contains("not a safetensors export"), "{e}");
}

#[test]
fn an_f32_gradient_check_says_its_figures_are_loose() {
    let spec = NetSpec::multi_layer_net(6, &[5], 3, Activation::Relu, WeightInit::He, 0.0);
    let x = Array2::from_shape_fn((4, 6), |(i, j)| ((i + 2 * j) % 5) as f32 / 4.0);
    let t = [0, 1, 2, 1];
    let mut rng = rng_from_seed(1);
    let net = Net::<f32>::new(spec.clone(), &mut rng).unwrap();
    let check = net.gradient_check(&x, &t, false, Default::default(), &mut rng);
    assert_eq!(check.dtype, "f32");
    assert!(check.to_string().contains("check in f64"), "{check}");
    let net = Net::<f64>::new(spec, &mut rng).unwrap();
    let x = x.mapv(f64::from);
    let check = net.gradient_check(&x, &t, false, Default::default(), &mut rng);
    assert!(!check.to_string().contains("note:"), "{check}");
}
