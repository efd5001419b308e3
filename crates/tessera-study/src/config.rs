//! Search configs (`workloads/searches/*.ron`): which evaluator, the design space, the
//! objectives and constraints, the budget, the strategy, the seed and the hypervolume
//! reference point. Errors name the file, line and column and say what was expected.
//!
//! ```ron
//! (
//!     format_version: 1,
//!     name: "accel-resnet50",
//!     evaluator: Accel(network: "resnet50", base: "edge-os-16x16"),
//!     space: [
//!         (name: "rows", path: "rows", kind: Int(lo: 8, hi: 128, step: 8)),
//!         (name: "dataflow", path: "dataflow",
//!          kind: Choice(["OutputStationary", "WeightStationary", "InputStationary"])),
//!         (name: "ifmap_kb", path: "ifmap_sram.size_kb", kind: Int(lo: 16, hi: 1024, log: true)),
//!     ],
//!     objectives: [(metric: "latency_ms", goal: Minimize), (metric: "energy_mj", goal: Minimize)],
//!     constraints: ["area_mm2 <= 2.0"],
//!     budget: (evaluations: 2000),
//!     strategy: nsga2((pop_size: 100)),
//!     seed: 1,
//!     reference_point: [100.0, 50.0],
//! )
//! ```

use crate::StudyError;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use tessera_search::StrategySpec;
use tessera_search::{Dim, Gene, Space};

/// Version of the config format.
pub const CONFIG_FORMAT_VERSION: u32 = 1;

/// A whole search config.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchConfig {
    pub format_version: u32,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub evaluator: EvaluatorSpec,
    pub space: Vec<Param>,
    pub objectives: Vec<Objective>,
    #[serde(default)]
    pub constraints: Vec<String>,
    pub budget: Budget,
    pub strategy: StrategySpec,
    pub seed: u64,
    /// One coordinate per objective, in the objective's own units and direction (a
    /// maximised objective's reference is a value below every design of interest).
    pub reference_point: Vec<f64>,
}

/// Which evaluator scores the designs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum EvaluatorSpec {
    /// A standard test problem (`zdt1`, `zdt2`, `zdt3`, `dtlz2`); its genes are the
    /// problem's variables, in order (the config's space must match the problem's).
    Problem { problem: String },
    /// The accelerator model on a fixed network; parameters' `path`s are fields of the
    /// accelerator spec (`tessera arch show PRESET`).
    Accel {
        /// A network: a built-in name (`resnet50`) or a `.ron` layer list.
        network: String,
        /// The accelerator spec the parameters override: a preset, a file, or inline RON.
        base: String,
    },
    /// Loop kernels mapped by the CGRA mapper and simulated cycle by cycle, every
    /// simulation verified against the interpreter; parameters' `path`s are fields of the
    /// CGRA spec.
    Cgra {
        /// Kernel files or folders.
        kernels: Vec<PathBuf>,
        base: String,
        /// Mapping wall-time budget per kernel, in seconds.
        #[serde(default = "default_map_time")]
        time_limit_s: f64,
        #[serde(default = "one")]
        map_seed: u64,
        #[serde(default = "one")]
        input_seed: u64,
    },
    /// The joint search on the UCI digits: a candidate network (the parameters without a
    /// `path`, named as the fields of `tessera_nn::DigitsGenes`: conv_layers, conv_width,
    /// kernel, depthwise, hidden, activation, weight_bits, act_bits) is trained on the fixed
    /// seeded split and quantised, its integer-inference test accuracy measured, and its
    /// layers scored on the accelerator (the parameters with a `path`).
    DigitsAccel {
        base: String,
        /// Seed of the split and of training (every candidate uses the same).
        #[serde(default = "one")]
        train_seed: u64,
        /// Training settings (`tessera_nn::TrainConfig`); absent: the search budget per
        /// candidate (`TrainConfig::search()`: 20 epochs, patience 5, 5 fine-tuning epochs).
        #[serde(default)]
        train: Option<tessera_nn::TrainConfig>,
    },
    /// The joint search over NAS-Bench-201 cells (no training: measured accuracies): the
    /// six parameters `edge0`..`edge5` (op names: none, skip_connect, nor_conv_1x1,
    /// nor_conv_3x3, avg_pool_3x3) choose the cell, which is lowered to its exact layers
    /// and scored on the accelerator (the parameters with a `path`).
    Nas201Accel {
        base: String,
        /// `cifar10`, `cifar100` or `imagenet16-120` (test accuracy, 12-epoch schedule).
        #[serde(default = "cifar10")]
        dataset: String,
    },
    /// Any simulator the user has: a command started once per worker thread that reads one
    /// design per line (JSON) on stdin and answers one metrics object per line on stdout.
    External {
        command: Vec<String>,
        /// Per-design timeout, in seconds.
        #[serde(default = "default_timeout")]
        timeout_s: f64,
        /// Name this evaluator version for the cache (change it when the model changes).
        #[serde(default)]
        version: String,
    },
}

fn cifar10() -> String {
    "cifar10".into()
}
fn default_map_time() -> f64 {
    2.0
}
fn default_timeout() -> f64 {
    60.0
}
fn one() -> u64 {
    1
}

/// One dimension of the design space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Param {
    pub name: String,
    /// The spec field this parameter sets (dotted path); `None` for evaluators without a
    /// spec (test problems, external).
    #[serde(default)]
    pub path: Option<String>,
    pub kind: ParamKind,
}

/// The values a parameter takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ParamKind {
    Int {
        lo: i64,
        hi: i64,
        #[serde(default = "one_i")]
        step: i64,
        #[serde(default)]
        log: bool,
    },
    Real {
        lo: f64,
        hi: f64,
        #[serde(default)]
        log: bool,
        /// With the grid strategy: the values taken on this range (>= 2, bounds
        /// included), instead of the strategy's `points`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        points: Option<u32>,
    },
    /// Unordered choices: strings (enum variants such as `"WeightStationary"`), numbers
    /// or booleans.
    Choice(Vec<serde_json::Value>),
    Bool,
}

fn one_i() -> i64 {
    1
}

impl ParamKind {
    /// The search dimension.
    pub fn dim(&self) -> Dim {
        match self {
            ParamKind::Int { lo, hi, step, log } => Dim::Int {
                lo: *lo,
                hi: *hi,
                step: *step,
                log: *log,
            },
            ParamKind::Real { lo, hi, log, .. } => Dim::Real {
                lo: *lo,
                hi: *hi,
                log: *log,
            },
            ParamKind::Choice(v) => Dim::Cat { n: v.len() },
            ParamKind::Bool => Dim::Cat { n: 2 },
        }
    }

    /// The value a gene stands for.
    pub fn decode(&self, g: &Gene) -> serde_json::Value {
        match (self, g) {
            (ParamKind::Choice(v), Gene::Cat(i)) => v[*i].clone(),
            (ParamKind::Bool, Gene::Cat(i)) => serde_json::Value::Bool(*i == 1),
            (_, Gene::Int(x)) => serde_json::Value::from(*x),
            (_, Gene::Real(x)) => serde_json::Value::from(*x),
            (_, Gene::Cat(i)) => serde_json::Value::from(*i),
        }
    }
}

/// Minimise or maximise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Goal {
    Minimize,
    Maximize,
}

/// One objective: a metric the evaluator reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objective {
    pub metric: String,
    pub goal: Goal,
}

/// A parsed constraint `metric <= bound` or `metric >= bound`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Constraint {
    pub metric: String,
    /// `true` for `<=`, `false` for `>=`.
    pub at_most: bool,
    pub bound: f64,
}

impl Constraint {
    /// Parse `"area_mm2 <= 2.0"` or `"accuracy >= 0.95"`.
    pub fn parse(s: &str) -> Result<Constraint, String> {
        let (at_most, parts) = if let Some((a, b)) = s.split_once("<=") {
            (true, (a, b))
        } else if let Some((a, b)) = s.split_once(">=") {
            (false, (a, b))
        } else {
            return Err(format!(
                "constraint `{s}`: expected `METRIC <= NUMBER` or `METRIC >= NUMBER`"
            ));
        };
        let metric = parts.0.trim();
        if metric.is_empty()
            || !metric
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(format!(
                "constraint `{s}`: expected a metric name before the comparison"
            ));
        }
        let bound: f64 = parts
            .1
            .trim()
            .parse()
            .map_err(|_| format!("constraint `{s}`: expected a number after the comparison"))?;
        if !bound.is_finite() {
            return Err(format!("constraint `{s}`: the bound must be finite"));
        }
        Ok(Constraint {
            metric: metric.to_string(),
            at_most,
            bound,
        })
    }

    /// How far a value breaks the constraint, normalised by the bound's magnitude (Deb's
    /// constraint handling sums these); 0 when it holds.
    pub fn violation(&self, value: f64) -> f64 {
        let excess = if self.at_most {
            value - self.bound
        } else {
            self.bound - value
        };
        if value.is_nan() {
            return f64::INFINITY;
        }
        excess.max(0.0) / self.bound.abs().max(1e-12)
    }
}

/// When to stop: after this many evaluations and/or this wall time, whichever comes first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    #[serde(default)]
    pub evaluations: Option<u64>,
    #[serde(default)]
    pub wall_time_s: Option<f64>,
}

/// A config that parsed and checked, with its space and constraints ready.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: SearchConfig,
    /// The file it came from (for messages).
    pub file: String,
    /// The exact text (hashed into the manifest).
    pub text: String,
    pub space: Space,
    pub constraints: Vec<Constraint>,
}

impl LoadedConfig {
    /// The strategy to run: the config's, with the grid's per-parameter point counts
    /// (`points` of a Real range) filled in.
    pub fn strategy_spec(&self) -> StrategySpec {
        let mut spec = self.config.strategy.clone();
        if let StrategySpec::Grid(g) = &mut spec {
            let per: Vec<Option<u32>> = self
                .config
                .space
                .iter()
                .map(|p| match p.kind {
                    ParamKind::Real { points, .. } => points,
                    _ => None,
                })
                .collect();
            if per.iter().any(Option::is_some) {
                g.points_per_dim = per;
            }
        }
        spec
    }

    /// Read and check a config file.
    pub fn load(path: &std::path::Path) -> Result<LoadedConfig, StudyError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| StudyError::Config {
            file: file.clone(),
            line: 0,
            column: 0,
            message: format!("cannot read: {e}"),
        })?;
        Self::from_str(&text, &file)
    }

    /// Parse and check config text; `file` names it in errors.
    pub fn from_str(text: &str, file: &str) -> Result<LoadedConfig, StudyError> {
        let config: SearchConfig = ron::Options::default()
            .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
            .from_str(text)
            .map_err(|e| StudyError::Config {
                file: file.to_string(),
                line: e.span.start.line,
                column: e.span.start.col,
                message: e.code.to_string(),
            })?;
        let at = |needle: &str, message: String| {
            let (line, column) = locate(text, needle);
            StudyError::Config {
                file: file.to_string(),
                line,
                column,
                message,
            }
        };
        if config.format_version != CONFIG_FORMAT_VERSION {
            return Err(at(
                "format_version",
                format!(
                    "format_version {}: this Tessera reads version {CONFIG_FORMAT_VERSION}",
                    config.format_version
                ),
            ));
        }
        let mut config = config;
        if config.space.is_empty() {
            // A test problem brings its own space: its variables x0, x1, ... in [0, 1].
            if let EvaluatorSpec::Problem { problem } = &config.evaluator {
                let p = tessera_search::TestProblem::from_name(problem).ok_or_else(|| {
                    at(
                        problem,
                        format!(
                            "unknown test problem `{problem}`; expected zdt1, zdt2, zdt3 or dtlz2"
                        ),
                    )
                })?;
                config.space = (0..p.n_vars())
                    .map(|i| Param {
                        name: format!("x{i}"),
                        path: None,
                        kind: ParamKind::Real {
                            lo: 0.0,
                            hi: 1.0,
                            log: false,
                            points: None,
                        },
                    })
                    .collect();
            } else {
                return Err(at("space", "the space has no parameter".into()));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for p in &config.space {
            if !seen.insert(p.name.as_str()) {
                return Err(at(
                    &format!("\"{}\"", p.name),
                    format!("parameter `{}` is defined twice", p.name),
                ));
            }
            if let ParamKind::Choice(v) = &p.kind
                && v.is_empty()
            {
                return Err(at(
                    &format!("\"{}\"", p.name),
                    format!("parameter `{}`: Choice needs at least one value", p.name),
                ));
            }
            p.kind.dim().validate().map_err(|m| {
                at(
                    &format!("\"{}\"", p.name),
                    format!("parameter `{}`: {m}", p.name),
                )
            })?;
        }
        if config.objectives.is_empty() {
            return Err(at("objectives", "at least one objective is needed".into()));
        }
        if config.reference_point.len() != config.objectives.len() {
            return Err(at(
                "reference_point",
                format!(
                    "the reference point has {} coordinates for {} objectives",
                    config.reference_point.len(),
                    config.objectives.len()
                ),
            ));
        }
        if config.reference_point.iter().any(|r| !r.is_finite()) {
            return Err(at(
                "reference_point",
                "reference point coordinates must be finite numbers".into(),
            ));
        }
        let mut constraints = Vec::new();
        for c in &config.constraints {
            constraints.push(Constraint::parse(c).map_err(|m| at(c, m))?);
        }
        if config.budget.evaluations.is_none()
            && config.budget.wall_time_s.is_none()
            && !matches!(config.strategy, StrategySpec::Grid(_))
        {
            return Err(at(
                "budget",
                "the budget needs `evaluations` and/or `wall_time_s` (only a grid ends by itself)"
                    .into(),
            ));
        }
        if config.budget.evaluations == Some(0) {
            return Err(at(
                "budget",
                "a budget of 0 evaluations runs nothing".into(),
            ));
        }
        for p in &config.space {
            if let ParamKind::Real {
                points: Some(_), ..
            } = p.kind
            {
                match &config.strategy {
                    StrategySpec::Grid(g) if !g.points_per_dim.is_empty() => {
                        return Err(at(
                            "points_per_dim",
                            "give the grid's point counts either per parameter (`points` in a Real range) or as `points_per_dim`, not both".into(),
                        ));
                    }
                    StrategySpec::Grid(_) => {}
                    _ => {
                        return Err(at(
                            &format!("\"{}\"", p.name),
                            format!(
                                "parameter `{}`: `points` sets the values of a grid search; this config's strategy is not `grid`",
                                p.name
                            ),
                        ));
                    }
                }
            }
        }
        let space = Space::new(config.space.iter().map(|p| p.kind.dim()).collect())
            .map_err(|e| at("space", e.to_string()))?;
        Ok(LoadedConfig {
            config,
            file: file.to_string(),
            text: text.to_string(),
            space,
            constraints,
        })
    }

    /// Where a piece of text first appears in the config (line, column from 1), or (0, 0).
    pub fn locate(&self, needle: &str) -> (usize, usize) {
        locate(&self.text, needle)
    }

    /// A located config error at the first appearance of `needle`.
    pub fn error_at(&self, needle: &str, message: String) -> StudyError {
        let (line, column) = self.locate(needle);
        StudyError::Config {
            file: self.file.clone(),
            line,
            column,
            message,
        }
    }

    /// The objectives as minimised values: maximised metrics are negated.
    pub fn minimised(&self, metrics: &[f64]) -> Vec<f64> {
        self.config
            .objectives
            .iter()
            .zip(metrics)
            .map(|(o, v)| match o.goal {
                Goal::Minimize => *v,
                Goal::Maximize => -*v,
            })
            .collect()
    }

    /// The reference point in minimised form.
    pub fn minimised_reference(&self) -> Vec<f64> {
        self.minimised(&self.config.reference_point)
    }

    /// A SHA-256 of the config text (hex), recorded in the manifest so `--resume` refuses a
    /// different config.
    pub fn hash(&self) -> String {
        use sha2::Digest;
        let d = sha2::Sha256::digest(self.text.as_bytes());
        d.iter().map(|b| format!("{b:02x}")).collect()
    }
}

fn locate(text: &str, needle: &str) -> (usize, usize) {
    match text.find(needle) {
        Some(at) => {
            let before = &text[..at];
            let line = before.matches('\n').count() + 1;
            let column = at - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            (line, column)
        }
        None => (0, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"(
    format_version: 1,
    name: "t",
    evaluator: Problem(problem: "zdt1"),
    space: [(name: "x", kind: Real(lo: 0.0, hi: 1.0))],
    objectives: [(metric: "f1", goal: Minimize), (metric: "f2", goal: Maximize)],
    constraints: ["f1 <= 0.5"],
    budget: (evaluations: 10),
    strategy: random,
    seed: 3,
    reference_point: [1.1, -0.1],
)"#;

    #[test]
    fn a_config_loads_and_minimises_maximised_objectives() {
        let c = LoadedConfig::from_str(OK, "t.ron").unwrap();
        assert_eq!(c.space.len(), 1);
        assert_eq!(c.minimised(&[1.0, 2.0]), vec![1.0, -2.0]);
        assert_eq!(c.minimised_reference(), vec![1.1, 0.1]);
        assert_eq!(c.constraints[0].violation(0.75), 0.5);
        assert_eq!(c.constraints[0].violation(0.25), 0.0);
        assert_eq!(c.hash().len(), 64);
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let bad = OK.replace("budget: (evaluations: 10)", "budget: (evaluation: 10)");
        let e = LoadedConfig::from_str(&bad, "t.ron")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("t.ron:8:"), "{e}");
        assert!(e.contains("evaluation"), "{e}");
        let bad = OK.replace("[1.1, -0.1]", "[1.1]");
        let e = LoadedConfig::from_str(&bad, "t.ron")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("t.ron:11:5:") && e.contains("2 objectives"),
            "{e}"
        );
        let bad = OK.replace("\"f1 <= 0.5\"", "\"f1 < 0.5\"");
        let e = LoadedConfig::from_str(&bad, "t.ron")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("t.ron:7:") && e.contains("expected `METRIC <="),
            "{e}"
        );
        let bad = OK.replace("hi: 1.0", "hi: -1.0");
        let e = LoadedConfig::from_str(&bad, "t.ron")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("t.ron:5:") && e.contains("parameter `x`"),
            "{e}"
        );
    }

    #[test]
    fn grid_points_per_parameter_reach_the_strategy_and_are_refused_elsewhere() {
        let grid = OK
            .replace(
                r#"kind: Real(lo: 0.0, hi: 1.0))"#,
                r#"kind: Real(lo: 0.0, hi: 1.0, points: 7)), (name: "y", kind: Real(lo: 0.0, hi: 1.0))"#,
            )
            .replace("strategy: random", "strategy: grid((points: 3))");
        let c = LoadedConfig::from_str(&grid, "t.ron").unwrap();
        let StrategySpec::Grid(g) = c.strategy_spec() else {
            panic!("grid expected")
        };
        assert_eq!(g.points_per_dim, vec![Some(7), None]);
        assert_eq!(tessera_search::grid_count(&c.space, &g).unwrap(), 7 * 3);
        // `points` with another strategy is not silently ignored.
        let random = grid.replace("strategy: grid((points: 3))", "strategy: random");
        let e = LoadedConfig::from_str(&random, "t.ron")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not `grid`") && e.contains("t.ron:5:"), "{e}");
    }

    #[test]
    fn sbx_bounds_reach_both_optimisers_and_a_wrong_one_is_located() {
        let nsga2 = OK.replace(
            "strategy: random",
            "strategy: nsga2((sbx_bounds: Truncated))",
        );
        let c = LoadedConfig::from_str(&nsga2, "t.ron").unwrap();
        let StrategySpec::Nsga2(o) = c.strategy_spec() else {
            panic!("nsga2 expected")
        };
        assert_eq!(o.sbx_bounds, tessera_search::SbxBounds::Truncated);
        let nsga3 = OK.replace("strategy: random", "strategy: nsga3(())");
        let c = LoadedConfig::from_str(&nsga3, "t.ron").unwrap();
        let StrategySpec::Nsga3(o) = c.strategy_spec() else {
            panic!("nsga3 expected")
        };
        assert_eq!(o.sbx_bounds, tessera_search::SbxBounds::Clip);
        let bad = OK.replace("strategy: random", "strategy: nsga2((sbx_bounds: Reflect))");
        let e = LoadedConfig::from_str(&bad, "t.ron")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("t.ron:9:") && e.contains("Reflect"), "{e}");
    }

    #[test]
    fn constraints_parse_both_directions() {
        let c = Constraint::parse("accuracy >= 0.95").unwrap();
        assert!(!c.at_most);
        assert_eq!(c.violation(0.95), 0.0);
        assert!((c.violation(0.9) - 0.05 / 0.95).abs() < 1e-12);
        assert!(Constraint::parse("<= 3").is_err());
        assert!(Constraint::parse("a <= x").is_err());
    }
}
