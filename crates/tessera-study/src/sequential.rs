//! The sequential baseline of a joint network x accelerator search, so that the gain of
//! co-design is measured, not claimed: first the best network at a fixed reference
//! accelerator (the config's base spec), then the best accelerators for that network, with
//! the same total budget as the joint search.
//!
//! Phase 1 runs the config's strategy over the network parameters only (those without a
//! `path`; the hardware genes are held at the reference accelerator's values) on one
//! objective, the network's (e.g. accuracy), for `network_fraction` of the budget. Phase 2
//! fixes the network with the best phase-1 value among feasible designs (lowest id on
//! ties) and runs the strategy over the hardware parameters on every objective for the
//! rest. It is a [`Strategy`] like any other, so runs, resume and reports are the same.

use crate::StudyError;
use crate::config::{LoadedConfig, ParamKind};
use serde_json::Value;
use std::collections::HashMap;
use tessera_search::{
    Candidate, Gene, Outcome, SearchError, Space, Strategy, StrategySpec, make_strategy,
};

/// See the module documentation.
pub struct Sequential {
    spec: StrategySpec,
    seed: u64,
    n_objectives: usize,
    space: Space,
    net_dims: Vec<usize>,
    hw_dims: Vec<usize>,
    reference_hw: Vec<Gene>,
    network_objective: usize,
    phase1_budget: u64,
    phase: u8,
    inner: Box<dyn Strategy>,
    asked_phase1: u64,
    /// Outer id -> (phase, inner id).
    ids: HashMap<u64, (u8, u64)>,
    next_id: u64,
    /// Best phase-1 design: (minimised network objective, outer id, network genes).
    best: Option<(f64, u64, Vec<Gene>)>,
    pending_phase1: u64,
    best_net: Vec<Gene>,
    /// Network genes of the phase-1 candidates still waiting for their tell.
    phase1_net: HashMap<u64, Vec<Gene>>,
}

fn sub_space(space: &Space, dims: &[usize]) -> Space {
    Space {
        dims: dims.iter().map(|&i| space.dims[i]).collect(),
    }
}

impl Sequential {
    /// The baseline for `cfg`: `network_objective` names the objective phase 1 optimises,
    /// `network_fraction` the share of the budget it gets. `reference` gives the value of
    /// every hardware parameter at the reference accelerator (parameter name -> value).
    pub fn new(
        cfg: &LoadedConfig,
        network_objective: &str,
        network_fraction: f64,
        reference: &serde_json::Map<String, Value>,
    ) -> Result<Sequential, StudyError> {
        let c = &cfg.config;
        let Some(budget) = c.budget.evaluations else {
            return Err(cfg.error_at(
                "budget",
                "the sequential baseline needs an evaluation budget to split".into(),
            ));
        };
        if !(network_fraction > 0.0 && network_fraction < 1.0) {
            return Err(StudyError::Resume(format!(
                "network fraction {network_fraction}: expected a number strictly between 0 and 1"
            )));
        }
        let network_objective = c
            .objectives
            .iter()
            .position(|o| o.metric == network_objective)
            .ok_or_else(|| {
                cfg.error_at(
                    "objectives",
                    format!("the sequential baseline optimises the network on objective `{network_objective}`, which the config does not have"),
                )
            })?;
        let net_dims: Vec<usize> = (0..c.space.len())
            .filter(|&i| c.space[i].path.is_none())
            .collect();
        let hw_dims: Vec<usize> = (0..c.space.len())
            .filter(|&i| c.space[i].path.is_some())
            .collect();
        if net_dims.is_empty() || hw_dims.is_empty() {
            return Err(cfg.error_at(
                "space",
                "the sequential baseline needs network parameters (no `path`) and hardware parameters (with a `path`)".into(),
            ));
        }
        let mut reference_hw = Vec::new();
        for &i in &hw_dims {
            let p = &c.space[i];
            let v = reference.get(&p.name).ok_or_else(|| {
                StudyError::Evaluator(format!("no reference value for `{}`", p.name))
            })?;
            reference_hw.push(gene_of(&p.kind, v).ok_or_else(|| {
                cfg.error_at(
                    &format!("\"{}\"", p.name),
                    format!(
                        "parameter `{}`: the reference accelerator's value {v} is not one of its values, so phase 1 cannot hold it fixed",
                        p.name
                    ),
                )
            })?);
        }
        let phase1_budget =
            ((budget as f64 * network_fraction).round() as u64).clamp(1, budget - 1);
        let space = cfg.space.clone();
        // Phase 1 has one objective: NSGA-III (for 3+ objectives) becomes NSGA-II with the
        // same population size.
        let phase1_spec = match &c.strategy {
            StrategySpec::Nsga3(o) => StrategySpec::Nsga2(tessera_search::Nsga2Options {
                pop_size: o.pop_size.unwrap_or(100),
                ..Default::default()
            }),
            other => other.clone(),
        };
        let inner = make_strategy(&phase1_spec, &sub_space(&space, &net_dims), 1, c.seed, None)?;
        Ok(Sequential {
            spec: c.strategy.clone(),
            seed: c.seed,
            n_objectives: c.objectives.len(),
            space,
            net_dims,
            hw_dims,
            reference_hw,
            network_objective,
            phase1_budget,
            phase: 1,
            inner,
            asked_phase1: 0,
            ids: HashMap::new(),
            next_id: 0,
            best: None,
            pending_phase1: 0,
            best_net: Vec::new(),
            phase1_net: HashMap::new(),
        })
    }

    fn assemble(&self, net: &[Gene], hw: &[Gene]) -> Vec<Gene> {
        let mut genes = vec![Gene::Cat(0); self.space.dims.len()];
        for (k, &i) in self.net_dims.iter().enumerate() {
            genes[i] = net[k];
        }
        for (k, &i) in self.hw_dims.iter().enumerate() {
            genes[i] = hw[k];
        }
        genes
    }

    fn start_phase2(&mut self) -> Result<(), SearchError> {
        self.phase = 2;
        self.best_net = self
            .best
            .as_ref()
            .map(|b| b.2.clone())
            .unwrap_or_else(|| vec![Gene::Cat(0); 0]);
        let hw = sub_space(&self.space, &self.hw_dims);
        self.inner = make_strategy(
            &self.spec,
            &hw,
            self.n_objectives,
            self.seed.wrapping_add(1),
            None,
        )?;
        Ok(())
    }
}

/// The gene whose value is `v`, if the parameter has it.
fn gene_of(kind: &ParamKind, v: &Value) -> Option<Gene> {
    match kind {
        ParamKind::Choice(vs) => vs.iter().position(|x| x == v).map(Gene::Cat),
        ParamKind::Bool => v.as_bool().map(|b| Gene::Cat(usize::from(b))),
        ParamKind::Int { lo, hi, step, .. } => {
            let x = v.as_i64()?;
            (x >= *lo && x <= *hi && (x - lo) % step == 0).then_some(Gene::Int(x))
        }
        ParamKind::Real { lo, hi, .. } => {
            let x = v.as_f64()?;
            (x >= *lo && x <= *hi).then_some(Gene::Real(x))
        }
    }
}

impl Strategy for Sequential {
    fn ask(&mut self, max: usize) -> Vec<Candidate> {
        if self.phase == 1 && self.asked_phase1 >= self.phase1_budget {
            if self.pending_phase1 > 0 {
                return Vec::new();
            }
            if self.start_phase2().is_err() {
                return Vec::new();
            }
        }
        let mut out = Vec::new();
        if self.phase == 1 {
            let left = (self.phase1_budget - self.asked_phase1) as usize;
            for c in self.inner.ask(max.min(left)) {
                let genes = self.assemble(&c.genes, &self.reference_hw.clone());
                let id = self.next_id;
                self.next_id += 1;
                self.ids.insert(id, (1, c.id));
                self.phase1_net.insert(id, c.genes.clone());
                self.asked_phase1 += 1;
                self.pending_phase1 += 1;
                out.push(Candidate {
                    id,
                    global_index: id,
                    genes,
                });
            }
        } else {
            let net = self.best_net.clone();
            if net.len() != self.net_dims.len() {
                return Vec::new(); // phase 1 found no feasible network: nothing to do
            }
            for c in self.inner.ask(max) {
                let genes = self.assemble(&net, &c.genes);
                let id = self.next_id;
                self.next_id += 1;
                self.ids.insert(id, (2, c.id));
                out.push(Candidate {
                    id,
                    global_index: id,
                    genes,
                });
            }
        }
        out
    }

    fn tell(&mut self, id: u64, outcome: Outcome) -> Result<(), SearchError> {
        let Some(&(phase, inner_id)) = self.ids.get(&id) else {
            return Err(SearchError::UnknownCandidate { id });
        };
        if phase == 1 {
            self.pending_phase1 = self.pending_phase1.saturating_sub(1);
            let inner_outcome = match &outcome {
                Outcome::Scored {
                    objectives,
                    violation,
                } => {
                    let v = objectives[self.network_objective];
                    let net = self.phase1_net.remove(&id).unwrap_or_default();
                    let better = match &self.best {
                        None => true,
                        Some(b) => v < b.0 || (v == b.0 && id < b.1),
                    };
                    if *violation <= 0.0 && better && !net.is_empty() {
                        self.best = Some((v, id, net));
                    }
                    Outcome::Scored {
                        objectives: vec![v],
                        violation: *violation,
                    }
                }
                Outcome::Failed => {
                    self.phase1_net.remove(&id);
                    Outcome::Failed
                }
            };
            if self.phase == 1 {
                self.inner.tell(inner_id, inner_outcome)?;
            }
            Ok(())
        } else {
            self.inner.tell(inner_id, outcome)
        }
    }

    fn is_exhausted(&self) -> bool {
        self.phase == 2 && (self.inner.is_exhausted() || self.best_net.len() != self.net_dims.len())
    }

    fn name(&self) -> &'static str {
        "sequential"
    }
}
