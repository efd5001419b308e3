//! Choose training settings on VALIDATION data only: the test images of the fixed split
//! (split seed 0) are never read. The 1,347 non-test images of split 0 (its training and
//! validation lists) are re-split, per class, into `FOLDS` inner train / validation pairs
//! of the same sizes (fold 0 is split 0's own train / validation); each fold is trained
//! with `SEEDS` training seeds and scored on its inner validation list, float and integer.
//!
//! `cargo run --release -p tessera-nn --example tune -- NET.ron [NET.ron ...]`
//! Settings from the environment (defaults: `TrainConfig::default()`): `OPT` (adam|sgd),
//! `LR`, `MOM`, `EPOCHS`, `PAT`, `WD`, `COS` (0|1), `BATCH`, `CHUNK`, `QAT`, `SHIFT`,
//! `SHIFTP`, `LS`, `WARM`; `FOLDS` (5), `SEEDS` (3); `BUDGET=search` starts from
//! `TrainConfig::search()`; `SPACE=k` adds k seeded random candidates of the digits space.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use tessera_nn::eval::integer_accuracy;
use tessera_nn::quant::IntModel;
use tessera_nn::train::{Hooks, accuracy, train};
use tessera_nn::{NetGenotype, Optimizer, Split, TrainConfig, data};

fn env<T: std::str::FromStr>(k: &str) -> Option<T> {
    std::env::var(k).ok().and_then(|v| v.parse().ok())
}

fn main() {
    let d = data::digits();
    let outer = Split::standard(&d, 0).unwrap();
    let base = if std::env::var("BUDGET").as_deref() == Ok("search") {
        TrainConfig::search()
    } else {
        TrainConfig::default()
    };
    let lr: f32 = env("LR").unwrap_or(match base.optimizer {
        Optimizer::Adam { lr } | Optimizer::Sgd { lr, .. } => lr,
    });
    let optimizer = match std::env::var("OPT").as_deref() {
        Ok("sgd") => Optimizer::Sgd {
            lr,
            momentum: env("MOM").unwrap_or(0.9),
        },
        _ => Optimizer::Adam { lr },
    };
    let cfg = TrainConfig {
        optimizer,
        max_epochs: env("EPOCHS").unwrap_or(base.max_epochs),
        patience: env("PAT").unwrap_or(base.patience),
        weight_decay: env("WD").unwrap_or(base.weight_decay),
        cosine: env::<u32>("COS").map_or(base.cosine, |v| v > 0),
        batch: env("BATCH").unwrap_or(base.batch),
        chunk: env("CHUNK").unwrap_or(base.chunk),
        qat_epochs: env("QAT").unwrap_or(base.qat_epochs),
        augment_shift: env("SHIFT").unwrap_or(base.augment_shift),
        augment_prob: env("SHIFTP").unwrap_or(base.augment_prob),
        label_smoothing: env("LS").unwrap_or(base.label_smoothing),
        warmup_epochs: env("WARM").unwrap_or(base.warmup_epochs),
        ..base
    };
    let folds: u64 = env("FOLDS").unwrap_or(5);
    let seeds: u64 = env("SEEDS").unwrap_or(3);
    println!("config: {cfg:?}; {folds} inner folds x {seeds} training seeds");
    // Inner folds of split 0's non-test images, per class, with split 0's own sizes.
    let pool: Vec<usize> = {
        let mut v = [outer.train.clone(), outer.validation.clone()].concat();
        v.sort_unstable();
        v
    };
    let inner: Vec<Split> = (0..folds)
        .map(|f| {
            if f == 0 {
                return Split {
                    test: Vec::new(),
                    ..outer.clone()
                };
            }
            let mut rng = ChaCha8Rng::seed_from_u64(1000 + f);
            let (mut train, mut validation) = (Vec::new(), Vec::new());
            for c in 0..d.classes() as u32 {
                let mut idx: Vec<usize> = pool.iter().copied().filter(|&i| d.y[i] == c).collect();
                let nv = outer.validation.iter().filter(|&&i| d.y[i] == c).count();
                idx.shuffle(&mut rng);
                validation.extend_from_slice(&idx[..nv]);
                train.extend_from_slice(&idx[nv..]);
            }
            train.sort_unstable();
            validation.sort_unstable();
            Split {
                seed: 1000 + f,
                fractions: outer.fractions,
                train,
                validation,
                test: Vec::new(),
            }
        })
        .collect();
    let mut nets: Vec<NetGenotype> = std::env::args()
        .skip(1)
        .map(|f| NetGenotype::load(std::path::Path::new(&f)).unwrap())
        .collect();
    if let Some(k) = env::<usize>("SPACE") {
        // `k` seeded random candidates of the digits search space (seed 2026, as the
        // `space_timing` example and the bench).
        let space = tessera_nn::eval::DigitsSpace::default();
        let mut rng = ChaCha8Rng::seed_from_u64(2026);
        nets.extend((0..k).map(|_| space.sample(&mut rng).genotype()));
    }
    let mut all = (0.0, 0.0);
    for g in &nets {
        let plan = match g.plan(d.input_shape(), d.classes()) {
            Ok(p) => p,
            Err(e) => {
                println!("{}: infeasible: {e}", g.name);
                continue;
            }
        };
        let (mut fsum, mut isum, mut ms, mut runs) = (0.0, 0.0, 0.0, 0.0);
        let mut per_fold = Vec::new();
        for (f, split) in inner.iter().enumerate() {
            let mut fold = 0.0;
            for seed in 0..seeds {
                let t0 = std::time::Instant::now();
                let t = train(&plan, &d, split, &cfg, seed, &Hooks::default()).unwrap();
                ms += t0.elapsed().as_secs_f64() * 1e3;
                let vx = t.normaliser.rows(&d, &split.validation);
                let vy: Vec<u32> = split.validation.iter().map(|&i| d.y[i]).collect();
                let fa = accuracy(&plan, &t.float_params, None, &vx, &vy);
                let ia = IntModel::build(&plan, &t.params, &t.calibration)
                    .map_or(fa, |m| integer_accuracy(&m, &vx, &vy));
                fsum += fa;
                isum += ia;
                fold += ia;
                runs += 1.0;
                if std::env::var("VERBOSE").is_ok() {
                    println!(
                        "  fold {f} seed {seed}: val float {fa:.4} int {ia:.4} epochs {}+{}",
                        t.epochs, t.qat_epochs
                    );
                }
            }
            per_fold.push(format!("{:.2}", 100.0 * fold / seeds as f64));
        }
        all.0 += fsum / runs / nets.len() as f64;
        all.1 += isum / runs / nets.len() as f64;
        println!(
            "{:<20} VAL float {:.2} % int {:.2} % (folds {}) {:.0} ms/run",
            g.name,
            100.0 * fsum / runs,
            100.0 * isum / runs,
            per_fold.join(" "),
            ms / runs
        );
    }
    println!(
        "ALL {} networks: VAL float {:.2} % int {:.2} %",
        nets.len(),
        100.0 * all.0,
        100.0 * all.1
    );
}
