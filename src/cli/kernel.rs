//! `tessera kernel check|show|dot|run`: load a kernel (`.tk`, Morpher `.xml`, CGRA-ME
//! `.dot`, or a serialized `.json` kernel), check it, describe it, export it, run it.

use super::{Outcome, bad_input, print_json};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tessera_ir::interp;
use tessera_ir::{IrError, Kernel, Slot};

#[derive(clap::Subcommand)]
pub enum KernelCmd {
    /// Parse and validate a kernel and run it once on the reference interpreter (input seed 1).
    /// Exit code 1 if it is structurally invalid or fails to run, 2 if it cannot be read.
    Check(CommonArgs),
    /// Print the kernel: arrays, scalars, live-outs, nodes with operands, op histogram.
    Show(CommonArgs),
    /// Export the kernel's data-flow graph in Graphviz DOT.
    Dot {
        #[command(flatten)]
        common: CommonArgs,
        /// Write the DOT text to this file instead of standard output.
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
    },
    /// Run the kernel on the reference interpreter with seeded random inputs and print
    /// every live-out and output array.
    Run {
        #[command(flatten)]
        common: CommonArgs,
        /// Seed of the random inputs (printed and recorded).
        #[arg(long = "input-seed", default_value_t = super::DEFAULT_SEED)]
        input_seed: u64,
        /// Refused: say which seed (`--input-seed`).
        #[arg(long = "seed", hide = true)]
        ambiguous_seed: Option<u64>,
        /// Print every element of the output arrays (text mode shows the first 16).
        #[arg(long)]
        full: bool,
        /// Run on these inputs instead of random ones: a JSON object
        /// `{"scalars": [..], "arrays": [[..], ..]}` in declaration order (the `inputs`
        /// field of `run --json` has this form).
        #[arg(long, value_name = "FILE", conflicts_with = "input_seed")]
        inputs: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
pub struct CommonArgs {
    /// Kernel file: .tk (kernel language), .xml (Morpher DFG), .dot/.gv (CGRA-ME DFG) or
    /// .json (serialized Tessera kernel).
    pub file: PathBuf,
    /// Override a kernel-language parameter, e.g. `--param n=64` (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, i64)>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Parse `NAME=VALUE` (decimal, or hex with `0x`).
pub fn parse_param(s: &str) -> Result<(String, i64), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=VALUE, found `{s}`"))?;
    let name = name.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "expected a parameter name before `=`, found `{name}`"
        ));
    }
    let v = value.trim();
    let (neg, digits) = match v.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, v),
    };
    let parsed = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(h) => i64::from_str_radix(h, 16),
        None => digits.parse::<i64>(),
    }
    .map_err(|_| format!("expected an integer value for `{name}`, found `{value}`"))?;
    Ok((name.to_string(), if neg { -parsed } else { parsed }))
}

pub fn run(cmd: KernelCmd) -> anyhow::Result<Outcome> {
    match cmd {
        KernelCmd::Check(args) => check(&args),
        KernelCmd::Show(args) => show(&args),
        KernelCmd::Dot { common, output } => dot(&common, output.as_deref()),
        KernelCmd::Run {
            common,
            input_seed,
            ambiguous_seed,
            full,
            inputs,
        } => {
            super::refuse_plain_seed(ambiguous_seed)?;
            run_kernel(&common, input_seed, full, inputs.as_deref())
        }
    }
}

/// Load a kernel; every failure is bad input (exit code 2).
fn load(args: &CommonArgs) -> anyhow::Result<Kernel> {
    tessera_ir::load_kernel(&args.file, &args.params).map_err(bad_input)
}

/// A short structural summary, shared by `check` and `show`.
#[derive(Serialize)]
struct Summary {
    kernel: String,
    file: String,
    source: tessera_ir::KernelSource,
    nodes: usize,
    edges: usize,
    data_edges: usize,
    order_edges: usize,
    loop_carried_edges: usize,
    trip_count: u32,
    arrays: usize,
    scalars: usize,
    live_outs: usize,
    memory_bytes: u32,
    nodes_on_recurrences: usize,
    op_histogram: BTreeMap<String, usize>,
    op_class_histogram: BTreeMap<String, usize>,
}

fn summary(k: &Kernel, file: &Path) -> Summary {
    let mut order = 0;
    let mut carried = 0;
    for e in k.graph.edge_weights() {
        if e.slot == Slot::Order {
            order += 1;
        }
        if e.distance > 0 {
            carried += 1;
        }
    }
    let mut classes = BTreeMap::new();
    for (_, n) in k.nodes() {
        *classes.entry(n.op.class().name().to_string()).or_insert(0) += 1;
    }
    Summary {
        kernel: k.name.clone(),
        file: file.display().to_string(),
        source: k.source,
        nodes: k.node_count(),
        edges: k.graph.edge_count(),
        data_edges: k.graph.edge_count() - order,
        order_edges: order,
        loop_carried_edges: carried,
        trip_count: k.trip_count,
        arrays: k.arrays.len(),
        scalars: k.scalars.len(),
        live_outs: k.live_outs.len(),
        memory_bytes: k.memory_size(),
        nodes_on_recurrences: k.nodes_on_recurrences().len(),
        op_histogram: k.op_histogram(),
        op_class_histogram: classes,
    }
}

#[derive(Serialize)]
struct CheckReport {
    ok: bool,
    file: String,
    /// What failed: `read` (the file could not be read or parsed), `validate` or `run`.
    stage: Option<String>,
    error: Option<String>,
    summary: Option<Summary>,
}

fn check(args: &CommonArgs) -> anyhow::Result<Outcome> {
    let file = args.file.display().to_string();
    let fail = |stage: &str, e: &IrError, summary: Option<Summary>| -> anyhow::Result<()> {
        if args.json {
            print_json(&CheckReport {
                ok: false,
                file: file.clone(),
                stage: Some(stage.to_string()),
                error: Some(e.to_string()),
                summary,
            })?;
        }
        Ok(())
    };
    let kernel = match tessera_ir::load_kernel(&args.file, &args.params) {
        Ok(k) => k,
        // A structurally invalid kernel was read fine: the check failed (exit 1).
        Err(e @ IrError::Invalid { .. }) => {
            fail("validate", &e, None)?;
            if !args.json {
                eprintln!("check failed: {e}");
            }
            return Ok(Outcome::CheckFailed);
        }
        Err(e) => {
            fail("read", &e, None)?;
            return Err(bad_input(e));
        }
    };
    let sum = summary(&kernel, &args.file);
    if let Err(e) = interp::run(&kernel, &interp::random_inputs(&kernel, 1)) {
        fail("run", &e, Some(sum))?;
        if !args.json {
            eprintln!("check failed: running on input seed 1: {e}");
        }
        return Ok(Outcome::CheckFailed);
    }
    if args.json {
        print_json(&CheckReport {
            ok: true,
            file,
            stage: None,
            error: None,
            summary: Some(sum),
        })?;
    } else {
        println!(
            "ok: kernel `{}` ({}): {} nodes, {} edges ({} loop-carried, {} ordering), trip count {}, \
             {} arrays, {} scalars, {} live-outs; runs on input seed 1",
            sum.kernel,
            sum.file,
            sum.nodes,
            sum.edges,
            sum.loop_carried_edges,
            sum.order_edges,
            sum.trip_count,
            sum.arrays,
            sum.scalars,
            sum.live_outs
        );
    }
    Ok(Outcome::Ok)
}

#[derive(Serialize)]
struct ShowReport<'a> {
    summary: Summary,
    /// The whole kernel (loadable again with `tessera kernel ... FILE.json`).
    kernel: &'a Kernel,
}

fn show(args: &CommonArgs) -> anyhow::Result<Outcome> {
    let k = load(args)?;
    let sum = summary(&k, &args.file);
    if args.json {
        print_json(&ShowReport {
            summary: sum,
            kernel: &k,
        })?;
        return Ok(Outcome::Ok);
    }
    println!("kernel `{}` from {} ({:?})", k.name, sum.file, k.source);
    println!(
        "trip count {}, {} nodes, {} edges ({} loop-carried, {} ordering), memory image {} bytes",
        k.trip_count,
        sum.nodes,
        sum.edges,
        sum.loop_carried_edges,
        sum.order_edges,
        sum.memory_bytes
    );
    if !k.arrays.is_empty() {
        println!("arrays:");
        for (i, a) in k.arrays.iter().enumerate() {
            println!(
                "  [{i}] {:<12} {:?} {}{}[{}] at bytes {}..{}{}",
                a.name,
                a.dir,
                if a.elem.is_float() {
                    "f"
                } else if a.signed {
                    "i"
                } else {
                    "u"
                },
                a.width.bytes() * 8,
                a.len,
                a.base,
                a.end(),
                match (a.elem.is_float(), a.init_range) {
                    (true, r) => {
                        let (lo, hi) = r.unwrap_or((-1, 1));
                        format!(", random floats in [{lo}, {hi}]")
                    }
                    (false, r) => r
                        .map(|(lo, hi)| format!(", random {lo}..={hi}"))
                        .unwrap_or_default(),
                }
            );
        }
    }
    if !k.scalars.is_empty() {
        println!("scalars:");
        for (i, s) in k.scalars.iter().enumerate() {
            let float = if s.elem.is_float() { " f32" } else { "" };
            println!(
                "  [{i}] {:<12}{float} default {}{}",
                s.name,
                s.elem.show(s.default),
                s.random_range
                    .map(|(lo, hi)| if s.elem.is_float() {
                        format!(", random floats in [{lo}, {hi}]")
                    } else {
                        format!(", random {lo}..={hi}")
                    })
                    .unwrap_or_default()
            );
        }
    }
    if !k.live_outs.is_empty() {
        println!("live-outs:");
        for l in &k.live_outs {
            println!("  {:<12} node {} (init {})", l.name, l.node.index(), l.init);
        }
    }
    println!("nodes (operands as n<id>[@d<distance> init <v>], p = predicate, o = ordering):");
    for (id, n) in k.nodes() {
        let ops: Vec<String> = k
            .operands(id)
            .iter()
            .map(|(src, o)| {
                let slot = match o.slot {
                    Slot::Data(_) => String::new(),
                    Slot::Pred { negated: false } => "p:".to_string(),
                    Slot::Pred { negated: true } => "!p:".to_string(),
                    Slot::Order => "o:".to_string(),
                };
                if o.distance > 0 {
                    format!("{slot}n{}@d{} init {}", src.index(), o.distance, o.init)
                } else {
                    format!("{slot}n{}", src.index())
                }
            })
            .collect();
        let mut extra = String::new();
        if let Some(imm) = n.imm {
            extra.push_str(&format!(" imm={imm}"));
        }
        if let Some(a) = n.array.and_then(|a| k.arrays.get(a as usize)) {
            extra.push_str(&format!(" array={}", a.name));
        }
        if !n.label.is_empty() {
            extra.push_str(&format!(" `{}`", n.label));
        }
        println!(
            "  n{:<4} {:<8}{extra}  <- {}",
            id.index(),
            n.op.mnemonic(),
            ops.join(", ")
        );
    }
    println!("op histogram:");
    for (op, c) in &sum.op_histogram {
        println!("  {op:<10} {c}");
    }
    println!(
        "op classes: {}",
        sum.op_class_histogram
            .iter()
            .map(|(c, n)| format!("{c} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("nodes on recurrences: {}", sum.nodes_on_recurrences);
    Ok(Outcome::Ok)
}

#[derive(Serialize)]
struct DotReport {
    kernel: String,
    output: Option<String>,
    dot: Option<String>,
}

fn dot(args: &CommonArgs, output: Option<&Path>) -> anyhow::Result<Outcome> {
    let k = load(args)?;
    let text = tessera_ir::export::to_dot(&k);
    match output {
        Some(path) => {
            super::write_output(path, &text)?;
            if args.json {
                print_json(&DotReport {
                    kernel: k.name.clone(),
                    output: Some(path.display().to_string()),
                    dot: None,
                })?;
            } else {
                println!("wrote {} ({} nodes)", path.display(), k.node_count());
            }
        }
        None => {
            if args.json {
                print_json(&DotReport {
                    kernel: k.name.clone(),
                    output: None,
                    dot: Some(text),
                })?;
            } else {
                print!("{text}");
            }
        }
    }
    Ok(Outcome::Ok)
}

#[derive(Serialize)]
struct RunReport<'a> {
    ok: bool,
    kernel: String,
    file: String,
    /// Seed of the random inputs; `None` when they came from `--inputs`.
    seed: Option<u64>,
    trip_count: u32,
    scalars: Vec<(String, i32)>,
    live_outs: BTreeMap<String, i32>,
    arrays: &'a [interp::NamedArray],
    /// The inputs the run used (feed them back with `--inputs`).
    inputs: &'a interp::Inputs,
}

/// Read inputs from a JSON file and check their shape against the kernel.
fn read_inputs(k: &Kernel, path: &Path) -> anyhow::Result<interp::Inputs> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad_input(format!("{}: cannot read: {e}", path.display())))?;
    #[derive(serde::Deserialize)]
    struct InputsFile {
        #[serde(default)]
        scalars: Vec<i32>,
        #[serde(default)]
        arrays: Vec<Vec<i32>>,
    }
    let f: InputsFile = serde_json::from_str(&text).map_err(|e| {
        bad_input(format!(
            "{}:{}:{}: expected {{\"scalars\": [..], \"arrays\": [[..], ..]}}: {e}",
            path.display(),
            e.line(),
            e.column()
        ))
    })?;
    if f.scalars.len() != k.scalars.len() {
        return Err(bad_input(format!(
            "{}: kernel `{}` has {} scalar input(s) ({}), the file gives {}",
            path.display(),
            k.name,
            k.scalars.len(),
            k.scalars
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            f.scalars.len()
        )));
    }
    if f.arrays.len() != k.arrays.len() {
        return Err(bad_input(format!(
            "{}: kernel `{}` has {} array(s), the file gives {}",
            path.display(),
            k.name,
            k.arrays.len(),
            f.arrays.len()
        )));
    }
    for (a, v) in k.arrays.iter().zip(&f.arrays) {
        if v.len() != a.len as usize {
            return Err(bad_input(format!(
                "{}: array `{}` has {} elements, the file gives {}",
                path.display(),
                a.name,
                a.len,
                v.len()
            )));
        }
    }
    Ok(interp::Inputs {
        scalars: f.scalars,
        arrays: f.arrays,
        seed: None,
    })
}

fn run_kernel(
    args: &CommonArgs,
    seed: u64,
    full: bool,
    inputs_file: Option<&Path>,
) -> anyhow::Result<Outcome> {
    let k = load(args)?;
    let inputs = match inputs_file {
        Some(p) => read_inputs(&k, p)?,
        None => interp::random_inputs(&k, seed),
    };
    let seed_shown = inputs.seed;
    let out = match interp::run(&k, &inputs) {
        Ok(o) => o,
        Err(e) => {
            if args.json {
                print_json(&serde_json::json!({
                    "ok": false,
                    "kernel": k.name,
                    "seed": seed_shown,
                    "error": e.to_string(),
                }))?;
            }
            match seed_shown {
                Some(s) => eprintln!("run failed (input seed {s}): {e}"),
                None => eprintln!("run failed (inputs from file): {e}"),
            }
            return Ok(Outcome::CheckFailed);
        }
    };
    let scalars: Vec<(String, i32)> = k
        .scalars
        .iter()
        .map(|s| s.name.clone())
        .zip(inputs.scalars.iter().copied())
        .collect();
    if args.json {
        print_json(&RunReport {
            ok: true,
            kernel: k.name.clone(),
            file: args.file.display().to_string(),
            seed: seed_shown,
            trip_count: k.trip_count,
            scalars,
            live_outs: out.live_outs.iter().cloned().collect(),
            arrays: &out.arrays,
            inputs: &inputs,
        })?;
        return Ok(Outcome::Ok);
    }
    println!(
        "kernel `{}`: {} iterations, input seed {seed}",
        k.name, k.trip_count
    );
    for ((name, v), s) in scalars.iter().zip(&k.scalars) {
        println!("  scalar {name} = {}", s.elem.show(*v));
    }
    let floats = k.float_values();
    for ((name, v), lo) in out.live_outs.iter().zip(&k.live_outs) {
        // A float live-out (a float op's result, or a phi that carries one) is shown as a
        // float (its word in hex).
        if floats[lo.node.index()] {
            println!(
                "  {name} = {} (f32 {:#010X})",
                tessera_ir::ElemType::F32.show(*v),
                *v as u32
            );
        } else {
            println!("  {name} = {v}");
        }
    }
    for a in &out.arrays {
        let shown = if full {
            a.values.len()
        } else {
            a.values.len().min(16)
        };
        let vals: Vec<String> = a.values[..shown].iter().map(|v| a.elem.show(*v)).collect();
        let more = if shown < a.values.len() {
            format!(", ... ({} more)", a.values.len() - shown)
        } else {
            String::new()
        };
        println!(
            "  {}[{}] = [{}{more}]",
            a.name,
            a.values.len(),
            vals.join(", ")
        );
    }
    Ok(Outcome::Ok)
}

#[cfg(test)]
mod tests {
    use super::parse_param;

    #[test]
    fn params_parse() {
        assert_eq!(parse_param("n=128"), Ok(("n".to_string(), 128)));
        assert_eq!(parse_param("m = -0x10"), Ok(("m".to_string(), -16)));
        assert!(parse_param("n").is_err());
        assert!(parse_param("n=abc").is_err());
        assert!(parse_param("=3").is_err());
    }
}
