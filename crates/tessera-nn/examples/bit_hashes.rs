//! Bit hashes of the trained weights of 24 seeded random candidates of the digits space
//! (seed 7; 3 float epochs, 2 fine-tuning epochs, shift on every image, no smoothing,
//! 8-sample chunks): a change meant to speed training up without changing results must
//! leave every line of the output equal
//! (`cargo run --release -p tessera-nn --example bit_hashes > before.txt`, change, diff).
//! Columns: network, hash of the final weights, hash of the float weights, integer accuracy.

use rand::SeedableRng;
use tessera_nn::eval::{DigitsSpace, train_and_evaluate_full};
use tessera_nn::train::Hooks;
use tessera_nn::{Split, TrainConfig, data};
fn main() {
    let d = data::digits();
    let split = Split::standard(&d, 0).unwrap();
    let space = DigitsSpace::default();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let cfg = TrainConfig {
        max_epochs: 3,
        qat_epochs: 2,
        augment_shift: 1,
        augment_prob: 1.0,
        label_smoothing: 0.0,
        chunk: 8,
        ..TrainConfig::search()
    };
    for i in 0..24 {
        let g = space.sample(&mut rng).genotype();
        match train_and_evaluate_full(&g, &d, &split, &cfg, i, &Hooks::default()) {
            Ok((e, t)) => println!(
                "{} {:016x} {:016x} {:?}",
                g.name,
                t.params.bit_hash(),
                t.float_params.bit_hash(),
                e.quantized_accuracy
            ),
            Err(e) => println!("{} err {e}", g.name),
        }
    }
}
