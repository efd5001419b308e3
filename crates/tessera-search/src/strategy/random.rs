//! Random search: independent uniform samples of the space (log-uniform on log scales).
//!
//! Design `i` of the global sequence is drawn from its own ChaCha8 stream `i` for the seed,
//! so any shard produces its designs (`i = K, K + N, K + 2N, ...`) without generating the
//! others, and the merged shards are exactly the unsharded run.

use rand_chacha::ChaCha8Rng;

use super::operators::Encoding;
use super::{Candidate, Outcome, Strategy, ToldSet, check_shard, normalise_outcome, stream_rng};
use crate::error::SearchError;
use crate::space::Space;

/// Uniform random sampling; never exhausted (designs may repeat in a discrete space).
#[derive(Debug, Clone)]
pub struct RandomSearch {
    enc: Encoding,
    base: ChaCha8Rng,
    shard: (u32, u32),
    m: usize,
    asked: u64,
    told: ToldSet,
    scratch: Vec<f64>,
}

impl RandomSearch {
    /// Random search over `space` for `m` objectives; `shard` as in
    /// [`super::make_strategy`].
    pub fn new(
        space: &Space,
        m: usize,
        seed: u64,
        shard: (u32, u32),
    ) -> Result<RandomSearch, SearchError> {
        space.validate()?;
        let shard = check_shard(Some(shard))?;
        Ok(RandomSearch {
            enc: Encoding::new(space),
            base: stream_rng(seed, 0),
            shard,
            m,
            asked: 0,
            told: ToldSet::default(),
            scratch: vec![0.0; space.len()],
        })
    }

    /// The global index of local candidate `id`.
    pub fn global_index(&self, id: u64) -> u64 {
        self.shard.0 as u64 + id * self.shard.1 as u64
    }
}

impl Strategy for RandomSearch {
    fn asks_ahead(&self) -> bool {
        true
    }
    fn ask(&mut self, max: usize) -> Vec<Candidate> {
        (0..max)
            .map(|_| {
                let id = self.asked;
                self.asked += 1;
                let global_index = self.global_index(id);
                let mut rng = self.base.clone();
                rng.set_stream(global_index);
                self.enc.sample(&mut rng, &mut self.scratch);
                Candidate {
                    id,
                    global_index,
                    genes: self.enc.decode(&self.scratch),
                }
            })
            .collect()
    }

    fn tell(&mut self, id: u64, outcome: Outcome) -> Result<(), SearchError> {
        if id < self.asked {
            normalise_outcome(id, &outcome, self.m)?;
        }
        self.told.mark(id, self.asked)
    }

    fn is_exhausted(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        "random"
    }
}
