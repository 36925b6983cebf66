//! The library's units through its public API: the configuration and its flags, the training
//! loop against the book's loop, checkpoints, and the hyper-parameter search.

mod config {
    use scratchnet_network::Gradient;
    use scratchnet_network::optimizer::OptimizerKind;
    use scratchnet_trainer::{RunConfig, TrainError};

    #[test]
    fn flag_defaults_are_the_notebooks() {
        assert_eq!(
            scratchnet_trainer::run_config("").unwrap(),
            RunConfig::default()
        );
    }

    #[test]
    fn lr_and_gradient_defaults_follow_the_optimizer_and_network() {
        for (opt, lr) in [
            ("sgd", 0.1),
            ("momentum", 0.01),
            ("adagrad", 0.01),
            ("adam", 0.001),
        ] {
            let c = scratchnet_trainer::run_config(&format!("--optimizer {opt}")).unwrap();
            assert_eq!((c.optimizer.kind.as_str(), c.optimizer.lr), (opt, lr));
            assert_eq!(c.schedule.gradient, Gradient::Numerical);
        }
        let deep =
            scratchnet_trainer::run_config("--hidden 100,100 --activation relu --init he").unwrap();
        assert_eq!(deep.schedule.gradient, Gradient::Backprop);
        let generic = scratchnet_trainer::run_config("--hidden 8,8 --grad numeric").unwrap();
        assert_eq!(generic.schedule.gradient, Gradient::NumericalBook);
        let conv = scratchnet_trainer::run_config("--net simple-convnet").unwrap();
        assert_eq!(
            (conv.optimizer.kind, conv.schedule.epochs),
            (OptimizerKind::Adam, Some(20))
        );
        assert_eq!(conv.schedule.eval_samples, Some(1000));
    }

    #[test]
    fn flags_that_do_not_apply_are_refused_by_name() {
        for (args, field) in [
            ("--beta1 0.8", "beta1"),
            ("--momentum 0.5 --optimizer adam", "momentum"),
            ("--decay-rate 0.9", "decay_rate"),
            ("--hidden 8,8 --numgrad fast", "numgrad"),
            ("--lr 1e-50 --dtype f32", "lr"),
            ("--hidden 100000000", "hidden"),
            ("--shift 28", "shift"),
        ] {
            match scratchnet_trainer::run_config(args) {
                Err(TrainError::Config { field: f, .. }) => assert_eq!(f, field, "{args}"),
                other => panic!("{args}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_description_names_what_differs_from_the_notebook() {
        let deep = scratchnet_trainer::run_config(
            "--hidden 100,100 --activation relu --init he --optimizer adam --batch-norm",
        )
        .unwrap();
        assert_eq!(
            deep.describe(),
            "backprop, f64, hidden 100,100 relu, init he, batch norm, adam, batch 100, lr 0.001"
        );
        let conv = scratchnet_trainer::run_config("--net simple-convnet --lr 3e38").unwrap();
        assert!(
            conv.describe()
                .starts_with("backprop, f64, net conv 30x5x5"),
            "{}",
            conv.describe()
        );
        assert!(conv.describe().ends_with("lr 3e38"));
    }
}

mod training_loop {
    use scratchnet_tensor::{Scalar, rng_from_seed};
    use scratchnet_trainer::{RunConfig, SparseMnist, Step, Trainer};
    const INPUT: usize = 784;
    const OUTPUT: usize = 10;
    use ndarray::Array2;
    use scratchnet_network::optimizer::Optimizer;
    use scratchnet_network::{Gradient, Net, Tensors};
    use scratchnet_tensor::SparseRows;

    fn tiny_data() -> SparseMnist<f64> {
        let mut rng = rng_from_seed(3);
        let x: Array2<f64> = scratchnet_tensor::randn((40, INPUT), 0.5, &mut rng).mapv(f64::abs);
        let x = SparseRows::from_dense(&x);
        let t: Vec<usize> = (0..40).map(|k| k % OUTPUT).collect();
        SparseMnist {
            x_train: x.clone(),
            t_train: t.clone(),
            x_test: x,
            t_test: t,
        }
    }

    #[test]
    fn evaluates_at_every_epoch_boundary_counting_from_zero() {
        let data = tiny_data();
        let cfg = scratchnet_trainer::run_config("--grad backprop --batch 10 --iters 9").unwrap();
        let mut t = Trainer::new(cfg, &data).unwrap();
        assert_eq!(t.iter_per_epoch(), 4);
        while !t.is_finished() {
            t.step();
        }
        let its: Vec<(usize, usize)> = t
            .metrics()
            .accuracy
            .iter()
            .map(|r| (r.epoch, r.iteration))
            .collect();
        // i = 0, 4, 8 -> after steps 1, 5, 9
        assert_eq!(its, vec![(0, 1), (1, 5), (2, 9)]);
        assert_eq!(t.metrics().losses.len(), 9);
    }

    /// A chapter 6 configuration: two ReLU layers, He weights, Adam.
    fn deep(iters: usize, more: &str) -> RunConfig {
        let lr = if more.contains("--lr") {
            ""
        } else {
            "--lr 0.01"
        };
        scratchnet_trainer::run_config(&format!(
            "--batch 10 --iters {iters} --hidden 7,5 --activation relu --init he \
             --optimizer adam {lr} {more}"
        ))
        .unwrap()
    }

    #[test]
    fn non_finite_loss_undoes_the_step_and_the_optimizer_state() {
        let data = tiny_data();
        let sgd = "--grad backprop --batch 10 --iters 5 --lr 1e308 --init 1";
        let momentum =
            scratchnet_trainer::run_config(&format!("{sgd} --optimizer momentum")).unwrap();
        let sgd = scratchnet_trainer::run_config(sgd).unwrap();
        let adam = deep(5, "--lr 1e308 --weight-decay 1e308");
        for cfg in [sgd, momentum, adam] {
            let mut t = Trainer::new(cfg.clone(), &data).unwrap();
            let mut before = t.checkpoint(0.0);
            loop {
                match t.step() {
                    Step::Done { .. } => {
                        assert!(!t.is_finished(), "{cfg:?} should blow up within 5 steps");
                        before = t.checkpoint(0.0);
                    }
                    Step::NonFinite { loss } => {
                        assert!(!loss.is_finite());
                        break;
                    }
                }
            }
            assert_eq!(t.checkpoint(0.0), before);
            assert!(t.net().all_finite());
        }
    }

    #[test]
    fn checkpoint_continues_the_same_stream() {
        let data = tiny_data();
        let ch4 = scratchnet_trainer::run_config("--grad backprop --batch 10 --iters 12").unwrap();
        let ch4_adam = scratchnet_trainer::run_config(
            "--grad backprop --batch 10 --iters 12 --optimizer adam",
        )
        .unwrap();
        let bn_dropout = deep(12, "--batch-norm --dropout 0.3 --weight-decay 0.001");
        for cfg in [ch4, ch4_adam, deep(12, ""), bn_dropout] {
            let mut whole = Trainer::new(cfg.clone(), &data).unwrap();
            while !whole.is_finished() {
                whole.step();
            }
            let mut first = Trainer::new(cfg, &data).unwrap();
            for _ in 0..5 {
                first.step();
            }
            let mut second = Trainer::from_checkpoint(first.checkpoint(1.0), &data).unwrap();
            while !second.is_finished() {
                second.step();
            }
            assert_eq!(second.metrics(), whole.metrics());
            assert_eq!(second.net(), whole.net());
            assert_eq!(second.optimizer(), whole.optimizer());
        }
    }

    /// §4.5.3 written out, one thing after another, with no gradient computed ahead: a `Net` of
    /// the configured spec (for the chapter 4 net, the fused kernels and the fast numerical
    /// gradient; for chapter 6, the layered fast path) and the configured optimizer.
    fn notebook_loop(cfg: &RunConfig, data: &SparseMnist<f64>) -> (Vec<f64>, Tensors<f64>) {
        let mut rng = rng_from_seed(cfg.seed);
        let mut losses = Vec::new();
        let (iters, batch) = (cfg.schedule.iters, cfg.schedule.batch);
        assert_eq!(cfg.net.input, [INPUT]);
        assert_eq!(cfg.net.output_size(), OUTPUT);
        let mut net = Net::<f64>::new(cfg.net.clone(), &mut rng).unwrap();
        let mut opt = cfg.new_optimizer::<f64>();
        for _ in 0..iters {
            let idx = scratchnet_mnist::random_batch(&mut rng, data.train_size(), batch);
            let x = data.x_train.gather_rows(&idx);
            let t: Vec<usize> = idx.iter().map(|&k| data.t_train[k]).collect();
            let g = match cfg.schedule.gradient {
                Gradient::Backprop => net.gradient(&x, &t, &mut rng),
                _ => net.numerical_gradient(&x, &t, &mut rng),
            };
            net.update(&mut opt, &g);
            losses.push(net.loss(&x, &t));
        }
        assert_eq!(opt.name(), cfg.optimizer.kind.as_str());
        assert!(opt.lr() > 0.0);
        (losses, net.params())
    }

    #[test]
    fn steps_equal_the_notebook_loop_bit_for_bit() {
        let data = tiny_data();
        let ch4 = |grad, iters| {
            scratchnet_trainer::run_config(&format!(
                "--grad {grad} --batch 10 --iters {iters} --hidden 6 --init 0.1 --lr 0.5"
            ))
            .unwrap()
        };
        let deep_sigmoid_decay = scratchnet_trainer::run_config(
            "--batch 10 --iters 7 --hidden 7,5 --init xavier --optimizer momentum --lr 0.01 \
             --weight-decay 0.01",
        )
        .unwrap();
        let bn_dropout = deep(9, "--batch-norm --dropout 0.2");
        for cfg in [
            ch4("backprop", 9),
            ch4("numeric", 3),
            deep(9, ""),
            deep_sigmoid_decay,
            bn_dropout,
        ] {
            let mut t = Trainer::new(cfg.clone(), &data).unwrap();
            while !t.is_finished() {
                t.step();
            }
            let (losses, net) = notebook_loop(&cfg, &data);
            assert_eq!(t.metrics().losses, losses, "{cfg:?}");
            assert_eq!(t.net().params(), net, "{cfg:?}");
        }
    }

    #[test]
    fn a_run_is_the_same_on_one_thread_and_on_three() {
        let data = tiny_data();
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let cfg = deep(8, "--batch-norm --dropout 0.1");
                let mut t = Trainer::new(cfg, &data).unwrap();
                while !t.is_finished() {
                    t.step();
                }
                (t.metrics().clone(), t.net().clone())
            })
        };
        assert_eq!(run(1), run(3));
    }

    /// `--shift`: the shifts come from the run's RNG after each batch, so a run with them is
    /// the same on 1 and 3 threads and on a second run, differs from the run without, and a
    /// net trained on shifted images equals one trained step by step on the shifts drawn by
    /// hand.
    #[test]
    fn shifted_runs_are_reproducible_and_train_on_the_shifted_images() {
        let data = tiny_data();
        let cfg = |shift: usize| deep(6, &format!("--shift {shift}"));
        let run = |shift: usize, threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut t = Trainer::new(cfg(shift), &data).unwrap();
                while !t.is_finished() {
                    t.step();
                }
                (t.metrics().losses.clone(), t.net().params())
            })
        };
        let shifted = run(2, 1);
        assert_eq!(shifted, run(2, 3));
        assert_ne!(shifted.0, run(0, 1).0);
        // by hand: draw the batch, then its shifts, then the gradient, with one RNG
        let c = cfg(2);
        let mut rng = rng_from_seed(c.seed);
        let mut net = c.new_net::<f64>(&mut rng).unwrap();
        let mut opt = c.new_optimizer::<f64>();
        let mut losses = Vec::new();
        for _ in 0..c.schedule.iters {
            let idx = scratchnet_mnist::random_batch(&mut rng, data.train_size(), c.schedule.batch);
            let x = data.x_train.gather_rows(&idx);
            let x = scratchnet_mnist::random_shifts(&mut rng, &x, 28, 28, 2);
            let t: Vec<usize> = idx.iter().map(|&k| data.t_train[k]).collect();
            let g = net.gradient(&x, &t, &mut rng);
            net.update(&mut opt, &g);
            losses.push(net.loss(&x, &t).as_f64());
        }
        assert_eq!((losses, net.params()), shifted);
    }

    #[test]
    fn batch_larger_than_the_data_is_refused() {
        let data = tiny_data();
        let cfg = scratchnet_trainer::run_config("--batch 41").unwrap();
        let e = Trainer::new(cfg, &data).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("batch 41"), "{e}");
    }
}

mod checkpoint {
    use scratchnet_network::Net;
    use scratchnet_network::optimizer::{AnyOptimizer, Sgd};
    use scratchnet_tensor::RngState;
    use scratchnet_trainer::CHECKPOINT_FILE;
    use scratchnet_trainer::{Checkpoint, Metrics, RunConfig};
    use std::path::Path;
    const INPUT: usize = 784;
    const OUTPUT: usize = 10;
    use scratchnet_tensor::rng_from_seed;

    fn sample() -> Checkpoint<f32> {
        Checkpoint {
            config: scratchnet_trainer::run_config("--dtype f32 --hidden 3").unwrap(),
            iters_done: 2,
            rng: RngState::of(&rng_from_seed(9)),
            net: Net::new(
                scratchnet_network::NetSpec::two_layer_net(INPUT, 3, OUTPUT, 0.1),
                &mut rng_from_seed(2),
            )
            .unwrap(),
            optimizer: AnyOptimizer::Sgd(Sgd::new(0.1)),
            metrics: Metrics {
                losses: vec![1.0, 0.5],
                accuracy: vec![],
            },
            wall_s: 1.0,
            train_size: 10,
            run_id: Some("r".into()),
        }
    }

    fn deep(hidden: &str) -> RunConfig {
        scratchnet_trainer::run_config(&format!(
            "--hidden {hidden} --activation relu --init he --optimizer adam"
        ))
        .unwrap()
    }

    fn deep_sample() -> Checkpoint<f64> {
        let config = deep("4,3");
        let mut net = config.new_net(&mut rng_from_seed(1)).unwrap();
        let mut optimizer = config.new_optimizer();
        let x = ndarray::Array2::from_elem((2, INPUT), 0.5);
        let g = net.gradient(&x, &[1, 2], &mut rng_from_seed(3));
        net.update(&mut optimizer, &g);
        Checkpoint {
            config,
            iters_done: 1,
            rng: RngState::of(&rng_from_seed(9)),
            net,
            optimizer,
            metrics: Metrics {
                losses: vec![2.0],
                accuracy: vec![],
            },
            wall_s: 1.0,
            train_size: 10,
            run_id: None,
        }
    }

    #[test]
    fn a_deep_net_and_its_adam_state_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(CHECKPOINT_FILE);
        let ck = deep_sample();
        ck.write(&p).unwrap();
        assert_eq!(Checkpoint::<f64>::read(&p).unwrap(), ck);
    }

    #[test]
    fn an_optimizer_state_or_network_that_does_not_fit_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(CHECKPOINT_FILE);
        // Adam's moments of another net's shapes
        let mut ck = deep_sample();
        let mut other = deep_sample();
        other.config = deep("4,4");
        let mut adam = ck.config.new_optimizer::<f64>();
        let mut w = ndarray::ArrayD::<f64>::zeros(ndarray::IxDyn(&[3]));
        let g = ndarray::ArrayD::<f64>::ones(ndarray::IxDyn(&[3]));
        scratchnet_network::optimizer::Optimizer::update(
            &mut adam,
            &mut [w.view_mut()],
            &[g.view()],
        );
        ck.optimizer = adam;
        // a net of other sizes than the configuration's
        other.net = deep_sample().net;
        // another optimizer than the configuration's
        let mut sgd = deep_sample();
        sgd.optimizer = AnyOptimizer::Sgd(Sgd::new(0.1));
        for bad in [ck, other, sgd] {
            bad.write(&p).unwrap();
            let e = Checkpoint::<f64>::read(&p).unwrap_err();
            assert!(
                e.to_string().contains("contents do not fit together"),
                "{e}"
            );
            assert_eq!(e.exit_code(), 2);
        }
    }

    #[test]
    fn flipped_byte_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(CHECKPOINT_FILE);
        sample().write(&p).unwrap();
        let mut b = std::fs::read(&p).unwrap();
        let n = b.len() / 2;
        b[n] ^= 1;
        std::fs::write(&p, b).unwrap();
        let e = Checkpoint::<f32>::read(&p).unwrap_err();
        assert!(e.to_string().contains("checksum"), "{e}");
        assert!(!e.to_string().contains("scratchnet-tmp"), "{e}");
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn wrong_dtype_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(CHECKPOINT_FILE);
        sample().write(&p).unwrap();
        assert_eq!(
            Checkpoint::read_config(&p).unwrap().dtype,
            scratchnet_trainer::Dtype::F32
        );
        assert!(Checkpoint::<f64>::read(&p).is_err());
        assert_eq!(Checkpoint::<f32>::read(&p).unwrap(), sample());
    }

    #[test]
    fn missing_file_is_bad_input() {
        let e = Checkpoint::<f64>::read(Path::new("/nonexistent/checkpoint.bin")).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("/nonexistent/checkpoint.bin"));
    }
}

mod search {
    use ndarray::Array2;
    use scratchnet_tensor::SparseRows;
    use scratchnet_tensor::rng_from_seed;
    use scratchnet_trainer::search::*;
    use scratchnet_trainer::{Dtype, SparseMnist, TrainError, Trainer};

    fn tiny_data(n: usize) -> SparseMnist<f64> {
        let mut rng = rng_from_seed(5);
        let x: Array2<f64> = scratchnet_tensor::randn((n, 784), 0.5, &mut rng).mapv(f64::abs);
        let x = SparseRows::from_dense(&x);
        let t: Vec<usize> = (0..n).map(|k| k % 10).collect();
        SparseMnist {
            x_train: x.clone(),
            t_train: t.clone(),
            x_test: x,
            t_test: t,
        }
    }

    fn tiny_config() -> SearchConfig {
        SearchConfig {
            trials: 5,
            epochs: 3,
            train_size: 50,
            batch: 10,
            hidden: vec![8, 6],
            ..Default::default()
        }
    }

    #[test]
    fn draws_are_in_range_on_a_log_scale_and_reproducible() {
        let c = SearchConfig {
            trials: 4000,
            ..Default::default()
        };
        let d = c.draws();
        assert_eq!(d.len(), 4000);
        assert!(d.iter().all(|d| (1e-6..1e-2).contains(&d.lr)));
        assert!(d.iter().all(|d| (1e-8..1e-4).contains(&d.weight_decay)));
        // log scale: the exponents are uniform, so each decade holds about a quarter of the
        // draws (a uniform lr would put 90 % into the top decade)
        for (name, values, lo) in [
            ("lr", d.iter().map(|d| d.lr).collect::<Vec<_>>(), -6),
            ("wd", d.iter().map(|d| d.weight_decay).collect(), -8),
        ] {
            for k in 0..4 {
                let (a, b) = (10f64.powi(lo + k), 10f64.powi(lo + k + 1));
                let share = values.iter().filter(|&&v| v >= a && v < b).count() as f64 / 4000.0;
                assert!((share - 0.25).abs() < 0.03, "{name} decade {k}: {share}");
            }
            let mean_exp = values.iter().map(|v| v.log10()).sum::<f64>() / 4000.0;
            assert!(
                (mean_exp - (lo as f64 + 2.0)).abs() < 0.06,
                "{name}: {mean_exp}"
            );
        }
        // lr and weight decay are not the same draw
        assert!(
            d.iter()
                .any(|d| (d.lr.log10() + 2.0 - d.weight_decay.log10()).abs() > 0.1)
        );
        assert_eq!(d, c.draws());
        // a prefix of trials draws the same values: the draws do not depend on the count
        let few = SearchConfig {
            trials: 10,
            ..c.clone()
        }
        .draws();
        assert_eq!(few[..], d[..10]);
        let other = SearchConfig { seed: 43, ..c }.draws();
        assert_ne!(other[0].lr, d[0].lr);
        let mut seeds: Vec<u64> = d.iter().map(|d| d.seed).collect();
        seeds.sort();
        seeds.dedup();
        assert_eq!(seeds.len(), 4000, "trial seeds repeat");
    }

    #[test]
    fn a_range_of_one_value_draws_that_value_and_bad_ranges_are_refused() {
        let c = SearchConfig {
            trials: 3,
            lr_exp: (-3.0, -3.0),
            ..Default::default()
        };
        assert!(c.draws().iter().all(|d| d.lr == 10f64.powf(-3.0)));
        for (bad, field) in [
            (
                SearchConfig {
                    lr_exp: (f64::NAN, -2.0),
                    ..c.clone()
                },
                "lr_exp",
            ),
            (
                SearchConfig {
                    lr_exp: (-2.0, -3.0),
                    ..c.clone()
                },
                "lr_exp",
            ),
            (
                SearchConfig {
                    lr_exp: (-400.0, -2.0),
                    ..c.clone()
                },
                "lr_exp",
            ),
            (
                SearchConfig {
                    weight_decay_exp: (-8.0, 400.0),
                    ..c.clone()
                },
                "weight_decay_exp",
            ),
            (
                SearchConfig {
                    lr_exp: (-50.0, -2.0),
                    dtype: Dtype::F32,
                    ..c.clone()
                },
                "lr_exp",
            ),
            (
                SearchConfig {
                    validation: 1.0,
                    ..c.clone()
                },
                "validation",
            ),
            (
                SearchConfig {
                    epochs: 0,
                    ..c.clone()
                },
                "epochs",
            ),
            (
                SearchConfig {
                    hidden: vec![],
                    ..c.clone()
                },
                "hidden",
            ),
        ] {
            match bad.validate() {
                Err(TrainError::Config { field: f, .. }) => assert_eq!(f, field, "{bad:?}"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn each_trial_is_the_trainer_run_of_its_configuration_on_the_one_split() {
        let data = tiny_data(60);
        let c = tiny_config();
        let trials = search(&c, &data).unwrap();
        let split = data
            .subset(Some(c.train_size), Some(c.validation), c.seed)
            .unwrap();
        assert_eq!((split.train_size(), split.test_size()), (40, 10));
        let iters = c.epochs * split.train_size() / c.batch;
        for (t, d) in trials.iter().zip(c.draws()) {
            assert_eq!(
                (t.trial, t.lr, t.weight_decay, t.seed),
                (d.trial, d.lr, d.weight_decay, d.seed)
            );
            let mut direct = Trainer::new(c.trial_config(&d, iters), &split).unwrap();
            while !direct.is_finished() {
                direct.step();
            }
            let rows = &direct.metrics().accuracy;
            assert_eq!(rows.len(), c.epochs);
            assert_eq!(
                t.val_acc,
                rows.iter().map(|r| r.test_acc).collect::<Vec<_>>()
            );
            assert_eq!(
                t.train_acc,
                rows.iter().map(|r| r.train_acc).collect::<Vec<_>>()
            );
            assert!(!t.diverged);
        }
        // the trials differ: their learning rates and seeds do
        assert!(
            trials
                .windows(2)
                .any(|w| w[0].val_acc != w[1].val_acc || w[0].train_acc != w[1].train_acc)
        );
    }

    #[test]
    fn the_result_is_the_same_on_one_thread_and_on_three() {
        let data = tiny_data(60);
        let c = tiny_config();
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| search(&c, &data).unwrap())
        };
        let one = run(1);
        assert_eq!(one, run(3));
        assert_eq!(csv(&one), csv(&run(2)));
    }

    #[test]
    fn a_batch_larger_than_the_training_part_is_refused_by_name() {
        let data = tiny_data(60);
        let c = SearchConfig {
            batch: 45,
            ..tiny_config()
        };
        let e = search(&c, &data).unwrap_err();
        assert!(e.to_string().starts_with("batch 45 is larger"), "{e}");
        let c = SearchConfig {
            train_size: 61,
            ..tiny_config()
        };
        assert!(
            search(&c, &data)
                .unwrap_err()
                .to_string()
                .starts_with("train_size")
        );
    }

    #[test]
    fn csv_rows_are_in_trial_order_and_read_back_exactly() {
        let data = tiny_data(60);
        let trials = search(&tiny_config(), &data).unwrap();
        let mut shuffled = trials.clone();
        shuffled.reverse();
        let text = csv(&shuffled);
        let rows: Vec<Vec<&str>> = text
            .lines()
            .skip(1)
            .map(|l| l.split(',').collect())
            .collect();
        assert_eq!(rows.len(), trials.len());
        for (row, t) in rows.iter().zip(&trials) {
            assert_eq!(row[0].parse::<usize>().unwrap(), t.trial);
            assert_eq!(row[1].parse::<f64>().unwrap().to_bits(), t.lr.to_bits());
            assert_eq!(
                row[2].parse::<f64>().unwrap().to_bits(),
                t.weight_decay.to_bits()
            );
            assert_eq!(row[3].parse::<f64>().unwrap(), t.final_val_acc());
            assert_eq!(row[4].parse::<f64>().unwrap(), t.final_train_acc());
        }
        let sorted = best_first(&trials);
        assert!(
            sorted
                .windows(2)
                .all(|w| w[0].final_val_acc() >= w[1].final_val_acc())
        );
    }
}

mod metrics {
    use scratchnet_trainer::{ACCURACY_CSV, AccuracyRow, Dtype, HeldOut, LOSS_CSV, Metrics};

    #[test]
    fn f32_losses_are_written_in_their_own_shortest_form() {
        let m = Metrics {
            losses: vec![0.1f32 as f64],
            accuracy: vec![],
        };
        assert_eq!(m.loss_csv(Dtype::F32), "iteration,loss\n1,0.1\n");
        // the f64 form of the same number shows its f32 rounding
        assert_ne!(m.loss_csv(Dtype::F64), "iteration,loss\n1,0.1\n");
    }

    #[test]
    fn csv_roundtrip_is_bit_exact() {
        let dir = tempfile::tempdir().unwrap();
        let m = Metrics {
            losses: (1..50).map(|k| 1.0 / k as f64 + 1e-17 * k as f64).collect(),
            accuracy: vec![AccuracyRow {
                epoch: 3,
                iteration: 1801,
                train_acc: 57_123.0 / 60_000.0,
                test_acc: 9_456.0 / 10_000.0,
            }],
        };
        m.write_csvs(dir.path(), Dtype::F64, HeldOut::Test).unwrap();
        assert_eq!(Metrics::read_csvs(dir.path()).unwrap(), (m, HeldOut::Test));
    }

    #[test]
    fn malformed_csv_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(LOSS_CSV), "iteration,loss\n1,0.5\n2,abc\n").unwrap();
        std::fs::write(
            dir.path().join(ACCURACY_CSV),
            "epoch,iteration,train_acc,test_acc\n",
        )
        .unwrap();
        let e = Metrics::read_csvs(dir.path()).unwrap_err().to_string();
        assert!(e.contains("loss.csv") && e.contains("line 3"), "{e}");
    }

    #[test]
    fn missing_header_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(LOSS_CSV), "1,0.5\n").unwrap();
        assert!(Metrics::read_csvs(dir.path()).is_err());
    }
}
