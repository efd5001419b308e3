//! The generational ask/tell engine shared by NSGA-II and NSGA-III.
//!
//! A generation (the initial sample, then each batch of offspring) is bred as a whole, with
//! the strategy's own generator, as soon as the previous one is complete; `ask` hands it
//! out in any slices, and `tell` stores outcomes by id. When every member is told, the
//! parents and the generation are merged in id order, the survival step keeps `mu` of them
//! ((mu + lambda) elitism), and the next generation is bred. Nothing depends on how the
//! asks were sliced or on the order of the tells.
//!
//! Offspring identical to a member of the population or to an earlier offspring of the
//! same generation are discarded and bred again (pymoo's default duplicate elimination;
//! up to [`MAX_BREEDING_ROUNDS`] rounds, after which the generation is smaller; if not a
//! single new design can be bred, the strategy is exhausted). This matters in discrete
//! spaces, where copies would otherwise spend evaluations on known designs.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::operators::{Encoding, Variation, hash_point};
use super::{Candidate, Outcome, normalise_outcome};
use crate::error::SearchError;

/// Rounds of selection and breeding before a generation is accepted short (pymoo's
/// `n_max_iterations` default for mating).
pub(crate) const MAX_BREEDING_ROUNDS: usize = 100;
/// Draws per wanted member before the initial sample is accepted short (a discrete space
/// smaller than the population).
const MAX_SAMPLING_DRAWS_PER_MEMBER: usize = 100;

/// Designs in dense row-major storage: operator-space coordinates, objectives, violation,
/// id and a hash of the coordinates.
#[derive(Debug, Clone)]
pub(crate) struct Pop {
    pub(crate) d: usize,
    pub(crate) m: usize,
    pub(crate) x: Vec<f64>,
    pub(crate) f: Vec<f64>,
    pub(crate) cv: Vec<f64>,
    pub(crate) id: Vec<u64>,
    pub(crate) hash: Vec<u64>,
}

impl Pop {
    pub(crate) fn new(d: usize, m: usize) -> Pop {
        Pop {
            d,
            m,
            x: Vec::new(),
            f: Vec::new(),
            cv: Vec::new(),
            id: Vec::new(),
            hash: Vec::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.cv.len()
    }

    pub(crate) fn x_row(&self, i: usize) -> &[f64] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    pub(crate) fn f_row(&self, i: usize) -> &[f64] {
        &self.f[i * self.m..(i + 1) * self.m]
    }

    fn clear(&mut self) {
        self.x.clear();
        self.f.clear();
        self.cv.clear();
        self.id.clear();
        self.hash.clear();
    }

    fn push_x(&mut self, x: &[f64], hash: u64) {
        self.x.extend_from_slice(x);
        self.f.extend(std::iter::repeat_n(f64::NAN, self.m));
        self.cv.push(f64::NAN);
        self.id.push(0);
        self.hash.push(hash);
    }

    fn append(&mut self, other: &Pop) {
        self.x.extend_from_slice(&other.x);
        self.f.extend_from_slice(&other.f);
        self.cv.extend_from_slice(&other.cv);
        self.id.extend_from_slice(&other.id);
        self.hash.extend_from_slice(&other.hash);
    }

    /// Replaces `self` by its rows `rows`, in that order (`into` is scratch).
    fn keep(&mut self, rows: &[usize], into: &mut Pop) {
        into.clear();
        for &r in rows {
            into.x.extend_from_slice(self.x_row(r));
            into.f.extend_from_slice(self.f_row(r));
            into.cv.push(self.cv[r]);
            into.id.push(self.id[r]);
            into.hash.push(self.hash[r]);
        }
        std::mem::swap(self, into);
    }

    /// Whether a row equal to `x` (with hash `h`) is present.
    fn contains(&self, x: &[f64], h: u64) -> bool {
        self.hash
            .iter()
            .enumerate()
            .any(|(i, &hi)| hi == h && self.x_row(i) == x)
    }
}

/// The survival and mating-selection steps that distinguish the algorithms.
pub(crate) trait Survival: Send {
    /// The rows of `pop` (parents then offspring, in id order) that survive, at most `mu`,
    /// in the order they will have in the next population. Keeps whatever `select` needs,
    /// aligned with that order.
    fn survive(&mut self, pop: &Pop, mu: usize, rng: &mut ChaCha8Rng) -> Vec<usize>;
    /// Appends `n` parents (row indices of `pop`) to `out`; consecutive pairs mate.
    fn select(&mut self, pop: &Pop, n: usize, rng: &mut ChaCha8Rng, out: &mut Vec<usize>);
}

/// Sizes and operator parameters of an evolutionary run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub(crate) pop_size: usize,
    pub(crate) offspring: usize,
    pub(crate) variation: Variation,
    pub(crate) eliminate_duplicates: bool,
}

/// The ask/tell state machine around a [`Survival`].
pub(crate) struct Evolution<S: Survival> {
    enc: Encoding,
    settings: Settings,
    rng: ChaCha8Rng,
    /// Current population (survivors of the last complete generation).
    pop: Pop,
    /// The generation being evaluated.
    batch: Pop,
    scratch: Pop,
    handed: usize,
    told: Vec<bool>,
    n_told: usize,
    next_id: u64,
    exhausted: bool,
    survival: S,
    parents: Vec<usize>,
    child: [Vec<f64>; 2],
}

impl<S: Survival> Evolution<S> {
    pub(crate) fn new(
        enc: Encoding,
        m: usize,
        settings: Settings,
        rng: ChaCha8Rng,
        survival: S,
    ) -> Evolution<S> {
        let d = enc.len();
        let mut evo = Evolution {
            enc,
            settings,
            rng,
            pop: Pop::new(d, m),
            batch: Pop::new(d, m),
            scratch: Pop::new(d, m),
            handed: 0,
            told: Vec::new(),
            n_told: 0,
            next_id: 0,
            exhausted: false,
            survival,
            parents: Vec::new(),
            child: [vec![0.0; d], vec![0.0; d]],
        };
        evo.sample_initial();
        evo
    }

    fn sample_initial(&mut self) {
        let want = self.settings.pop_size;
        let mut x = vec![0.0; self.enc.len()];
        for _ in 0..want * MAX_SAMPLING_DRAWS_PER_MEMBER {
            if self.batch.len() == want {
                break;
            }
            self.enc.sample(&mut self.rng, &mut x);
            let h = hash_point(&x);
            if !self.settings.eliminate_duplicates || !self.batch.contains(&x, h) {
                self.batch.push_x(&x, h);
            }
        }
        self.open_batch();
    }

    /// Numbers the new batch and resets the tell bookkeeping.
    fn open_batch(&mut self) {
        for (r, id) in self.batch.id.iter_mut().enumerate() {
            *id = self.next_id + r as u64;
        }
        self.next_id += self.batch.len() as u64;
        self.handed = 0;
        self.n_told = 0;
        self.told.clear();
        self.told.resize(self.batch.len(), false);
        self.exhausted = self.batch.len() == 0;
    }

    fn breed(&mut self) {
        self.batch.clear();
        let lambda = self.settings.offspring;
        let dedup = self.settings.eliminate_duplicates;
        let var = self.settings.variation;
        let mut rounds = 0;
        while self.batch.len() < lambda && rounds < MAX_BREEDING_ROUNDS && self.pop.len() > 0 {
            rounds += 1;
            let matings = (lambda - self.batch.len()).div_ceil(2);
            self.parents.clear();
            self.survival
                .select(&self.pop, 2 * matings, &mut self.rng, &mut self.parents);
            for pair in self.parents.chunks_exact(2) {
                let [c1, c2] = &mut self.child;
                var.breed(
                    &self.enc,
                    self.pop.x_row(pair[0]),
                    self.pop.x_row(pair[1]),
                    c1,
                    c2,
                    &mut self.rng,
                );
                for c in &self.child {
                    if self.batch.len() == lambda {
                        break;
                    }
                    let h = hash_point(c);
                    if dedup && (self.pop.contains(c, h) || self.batch.contains(c, h)) {
                        continue;
                    }
                    self.batch.push_x(c, h);
                }
            }
        }
        self.open_batch();
    }

    /// All of the batch is told: survival, then the next generation.
    fn complete(&mut self) {
        self.pop.append(&self.batch);
        let keep = self
            .survival
            .survive(&self.pop, self.settings.pop_size, &mut self.rng);
        self.pop.keep(&keep, &mut self.scratch);
        self.breed();
    }

    pub(crate) fn ask(&mut self, max: usize) -> Vec<Candidate> {
        let end = (self.handed + max).min(self.batch.len());
        let out = (self.handed..end)
            .map(|r| Candidate {
                id: self.batch.id[r],
                global_index: self.batch.id[r],
                genes: self.enc.decode(self.batch.x_row(r)),
            })
            .collect();
        self.handed = end;
        out
    }

    pub(crate) fn tell(&mut self, id: u64, outcome: Outcome) -> Result<(), SearchError> {
        let first = self.next_id - self.batch.len() as u64;
        if id < first {
            // Every earlier generation was complete before this one was bred.
            return Err(SearchError::AlreadyTold { id });
        }
        let r = (id - first) as usize;
        if r >= self.handed {
            return Err(SearchError::UnknownCandidate { id });
        }
        if self.told[r] {
            return Err(SearchError::AlreadyTold { id });
        }
        let m = self.batch.m;
        let (objectives, violation) = normalise_outcome(id, &outcome, m)?;
        let row = &mut self.batch.f[r * m..(r + 1) * m];
        if objectives.is_empty() {
            row.fill(f64::INFINITY);
        } else {
            row.copy_from_slice(objectives);
        }
        self.batch.cv[r] = violation;
        self.told[r] = true;
        self.n_told += 1;
        if self.n_told == self.batch.len() {
            self.complete();
        }
        Ok(())
    }

    pub(crate) fn is_exhausted(&self) -> bool {
        self.exhausted
    }

    pub(crate) fn population_ids(&self) -> Vec<u64> {
        self.pop.id.clone()
    }
}

/// Fills `perm` with a uniformly random permutation of `0..n` (Fisher–Yates).
pub(crate) fn shuffle_into(perm: &mut Vec<usize>, n: usize, rng: &mut ChaCha8Rng) {
    perm.clear();
    perm.extend(0..n);
    for i in (1..n).rev() {
        let j = rng.random_range(0..=i);
        perm.swap(i, j);
    }
}

/// Pairs for binary tournaments in the way of Deb's reference code: entrants are read off
/// fresh random permutations of the population, so every member enters equally often.
pub(crate) fn tournament(
    n_pop: usize,
    n: usize,
    perm: &mut Vec<usize>,
    rng: &mut ChaCha8Rng,
    out: &mut Vec<usize>,
    mut winner: impl FnMut(usize, usize, &mut ChaCha8Rng) -> usize,
) {
    let mut pos = n_pop;
    let mut next = |perm: &mut Vec<usize>, rng: &mut ChaCha8Rng| {
        if pos == n_pop {
            shuffle_into(perm, n_pop, rng);
            pos = 0;
        }
        pos += 1;
        perm[pos - 1]
    };
    for _ in 0..n {
        let a = next(perm, rng);
        let b = next(perm, rng);
        out.push(winner(a, b, rng));
    }
}
