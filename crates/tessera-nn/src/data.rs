//! Data sets and their fixed, seeded, stratified splits.
//!
//! The UCI optical handwritten digits (1,797 images of 8 x 8 pixels, values 0..16, 10
//! classes) are embedded in the crate ([`digits`]), so nothing depends on a file path. User
//! data sets are CSV files of numeric features plus one label column ([`load_csv`]); whether
//! the first line is a header is always stated by the caller ([`Header`]), never guessed.

use crate::error::NnError;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Read;

/// The digits CSV as shipped in `workloads/datasets/` (gzip; 64 pixel columns, label last).
const DIGITS_CSV_GZ: &[u8] = include_bytes!("../../../workloads/datasets/digits.csv.gz");

/// Height, width and channels of image samples (stored height-major, channels last).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageShape {
    pub h: usize,
    pub w: usize,
    pub c: usize,
}

/// A labelled data set held in memory: `n` samples of `features` values each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    pub name: String,
    /// Samples.
    pub n: usize,
    /// Values per sample.
    pub features: usize,
    /// When the samples are images: their shape (`h * w * c == features`).
    pub image: Option<ImageShape>,
    /// Class names, index = class id (sorted numerically when every label is a number).
    pub class_names: Vec<String>,
    /// Raw feature values, `n x features`, row-major.
    pub x: Vec<f32>,
    /// Class id of each sample.
    pub y: Vec<u32>,
    /// Where the data came from.
    pub source: String,
}

impl Dataset {
    pub fn classes(&self) -> usize {
        self.class_names.len()
    }

    /// Input shape for networks: the image shape, or `1 x 1 x features` for plain vectors.
    pub fn input_shape(&self) -> ImageShape {
        self.image.unwrap_or(ImageShape {
            h: 1,
            w: 1,
            c: self.features,
        })
    }

    /// SHA-256 of the features and labels (little-endian bytes), hex: names the data exactly.
    pub fn content_hash(&self) -> String {
        let mut h = Sha256::new();
        for v in &self.x {
            h.update(v.to_le_bytes());
        }
        for v in &self.y {
            h.update(v.to_le_bytes());
        }
        hex(&h.finalize())
    }

    /// Samples of class `c`.
    pub fn count_of(&self, c: u32) -> usize {
        self.y.iter().filter(|&&y| y == c).count()
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether the first line of a CSV file is a header. Always explicit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Header {
    /// The first line names the columns and is skipped.
    Present,
    /// Every line is a sample.
    Absent,
}

/// Which column holds the label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LabelColumn {
    First,
    Last,
    /// 0-based column index.
    Index(usize),
}

/// How to read a user CSV data set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CsvOptions {
    pub header: Header,
    pub label: LabelColumn,
    /// Treat the features as images of this shape (`h * w * c` must equal the feature count).
    pub image: Option<ImageShape>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            header: Header::Absent,
            label: LabelColumn::Last,
            image: None,
        }
    }
}

/// The UCI optical handwritten digits data set, embedded (see `workloads/datasets/SOURCES.md`).
pub fn digits() -> Dataset {
    let mut text = String::new();
    flate2::read::GzDecoder::new(DIGITS_CSV_GZ)
        .read_to_string(&mut text)
        .expect("the embedded digits data is a valid gzip file (checked by a test)");
    let opts = CsvOptions {
        header: Header::Absent,
        label: LabelColumn::Last,
        image: Some(ImageShape { h: 8, w: 8, c: 1 }),
    };
    let mut d = parse_csv(&text, "digits.csv", &opts)
        .expect("the embedded digits data parses (checked by a test)");
    d.name = "digits".into();
    d.source = "UCI optical recognition of handwritten digits (test set copy, 1,797 images), CC BY 4.0; workloads/datasets/SOURCES.md".into();
    d
}

/// Read a CSV data set from a file (`.gz` files are decompressed).
pub fn load_csv(path: &std::path::Path, opts: &CsvOptions) -> Result<Dataset, NnError> {
    let file = path.display().to_string();
    let io = |e: std::io::Error| NnError::Io {
        file: file.clone(),
        msg: e.to_string(),
    };
    let bytes = std::fs::read(path).map_err(io)?;
    let text = if path.extension().is_some_and(|e| e == "gz") {
        let mut s = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut s)
            .map_err(io)?;
        s
    } else {
        String::from_utf8(bytes).map_err(|e| NnError::Io {
            file: file.clone(),
            msg: format!("not UTF-8 text: {e}"),
        })?
    };
    let mut d = parse_csv(&text, &file, opts)?;
    d.source = file;
    Ok(d)
}

/// Parse CSV text: comma-separated numeric features and one label column; empty lines are
/// skipped. `file` names the input in errors, which give the 1-based line and what was
/// expected.
pub fn parse_csv(text: &str, file: &str, opts: &CsvOptions) -> Result<Dataset, NnError> {
    let err = |line: usize, msg: String| NnError::Csv {
        file: file.to_string(),
        line,
        msg,
    };
    let mut x = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    let mut columns: Option<usize> = None;
    let mut label_col = 0usize;
    let mut header_seen = opts.header == Header::Absent;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if !header_seen {
            header_seen = true;
            columns = Some(fields.len());
            label_col = resolve_label(opts.label, fields.len()).map_err(|m| err(line_no, m))?;
            continue;
        }
        let cols = *columns.get_or_insert(fields.len());
        if columns == Some(fields.len()) && x.is_empty() && labels.is_empty() {
            label_col = resolve_label(opts.label, cols).map_err(|m| err(line_no, m))?;
        }
        if fields.len() != cols {
            return Err(err(
                line_no,
                format!(
                    "expected {cols} comma-separated fields (as on the first row), found {}",
                    fields.len()
                ),
            ));
        }
        for (j, f) in fields.iter().enumerate() {
            if j == label_col {
                if f.is_empty() {
                    return Err(err(
                        line_no,
                        format!("column {}: the label is empty", j + 1),
                    ));
                }
                labels.push((*f).to_string());
                continue;
            }
            let v: f32 = f.parse().map_err(|_| {
                let hint = if labels.is_empty() && opts.header == Header::Absent {
                    " (if this line is a header, say so: header Present)"
                } else {
                    ""
                };
                err(
                    line_no,
                    format!("column {}: expected a number, found `{f}`{hint}", j + 1),
                )
            })?;
            if !v.is_finite() {
                return Err(err(
                    line_no,
                    format!("column {}: expected a finite number, found `{f}`", j + 1),
                ));
            }
            x.push(v);
        }
    }
    let n = labels.len();
    if n == 0 {
        return Err(err(0, "no samples".into()));
    }
    let features = x.len() / n;
    if features == 0 {
        return Err(err(0, "no feature columns besides the label".into()));
    }
    if let Some(s) = opts.image
        && s.h * s.w * s.c != features
    {
        return Err(NnError::Data(format!(
            "image shape {}x{}x{} has {} values but the rows have {features} features",
            s.h,
            s.w,
            s.c,
            s.h * s.w * s.c
        )));
    }
    let mut names: Vec<String> = labels.clone();
    names.sort();
    names.dedup();
    let numeric: Option<Vec<f64>> = names.iter().map(|s| s.parse::<f64>().ok()).collect();
    if let Some(nums) = numeric {
        let mut pairs: Vec<(f64, String)> = nums.into_iter().zip(names).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        names = pairs.into_iter().map(|p| p.1).collect();
    }
    let y = labels
        .iter()
        .map(|l| names.iter().position(|n| n == l).unwrap_or(0) as u32)
        .collect();
    let name = std::path::Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.to_string());
    Ok(Dataset {
        name,
        n,
        features,
        image: opts.image,
        class_names: names,
        x,
        y,
        source: file.to_string(),
    })
}

fn resolve_label(l: LabelColumn, cols: usize) -> Result<usize, String> {
    if cols < 2 {
        return Err(format!(
            "expected at least 2 columns (features and a label), found {cols}"
        ));
    }
    match l {
        LabelColumn::First => Ok(0),
        LabelColumn::Last => Ok(cols - 1),
        LabelColumn::Index(i) if i < cols => Ok(i),
        LabelColumn::Index(i) => Err(format!(
            "label column {i} (0-based) does not exist: rows have {cols} columns"
        )),
    }
}

/// Fractions of each class that go to training and validation; the rest is the test set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SplitFractions {
    pub train: f64,
    pub validation: f64,
}

impl Default for SplitFractions {
    /// 60 / 15 / 25 %: the 25 % test share of the scikit-learn anchor in issue 19.
    fn default() -> Self {
        Self {
            train: 0.60,
            validation: 0.15,
        }
    }
}

/// A fixed train / validation / test split of a data set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Split {
    pub seed: u64,
    pub fractions: SplitFractions,
    /// Sample indices, ascending.
    pub train: Vec<usize>,
    pub validation: Vec<usize>,
    pub test: Vec<usize>,
}

/// What results record about a split: enough to recognise it exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitRecord {
    pub seed: u64,
    pub fractions: SplitFractions,
    pub train: usize,
    pub validation: usize,
    pub test: usize,
    /// SHA-256 (hex) of the three index lists (u32 little-endian, each list followed by
    /// u32::MAX).
    pub index_hash: String,
    /// [`Dataset::content_hash`] of the data split.
    pub data_hash: String,
}

impl Split {
    /// Stratified split: each class's samples are shuffled by a ChaCha8 generator seeded
    /// with `seed` (one generator, classes in id order), and the first `round(train * n_c)`
    /// go to training, the next `round(validation * n_c)` to validation, the rest to test.
    pub fn stratified(data: &Dataset, seed: u64, f: SplitFractions) -> Result<Split, NnError> {
        if !(f.train > 0.0 && f.validation >= 0.0 && f.train + f.validation < 1.0) {
            return Err(NnError::Data(format!(
                "split fractions train {} and validation {} must be positive and leave a test share",
                f.train, f.validation
            )));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (mut train, mut validation, mut test) = (Vec::new(), Vec::new(), Vec::new());
        for c in 0..data.classes() as u32 {
            let mut idx: Vec<usize> = (0..data.n).filter(|&i| data.y[i] == c).collect();
            idx.shuffle(&mut rng);
            let n = idx.len() as f64;
            let nt = (f.train * n).round() as usize;
            let nv = ((f.validation * n).round() as usize).min(idx.len() - nt.min(idx.len()));
            let nt = nt.min(idx.len());
            train.extend_from_slice(&idx[..nt]);
            validation.extend_from_slice(&idx[nt..nt + nv]);
            test.extend_from_slice(&idx[nt + nv..]);
        }
        train.sort_unstable();
        validation.sort_unstable();
        test.sort_unstable();
        if train.is_empty() || test.is_empty() {
            return Err(NnError::Data(format!(
                "{} samples are too few to split (train {}, test {})",
                data.n,
                train.len(),
                test.len()
            )));
        }
        Ok(Split {
            seed,
            fractions: f,
            train,
            validation,
            test,
        })
    }

    /// The default split (60 / 15 / 25 %) with the given seed.
    pub fn standard(data: &Dataset, seed: u64) -> Result<Split, NnError> {
        Self::stratified(data, seed, SplitFractions::default())
    }

    pub fn index_hash(&self) -> String {
        let mut h = Sha256::new();
        for list in [&self.train, &self.validation, &self.test] {
            for &i in list.iter() {
                h.update((i as u32).to_le_bytes());
            }
            h.update(u32::MAX.to_le_bytes());
        }
        hex(&h.finalize())
    }

    pub fn record(&self, data: &Dataset) -> SplitRecord {
        SplitRecord {
            seed: self.seed,
            fractions: self.fractions,
            train: self.train.len(),
            validation: self.validation.len(),
            test: self.test.len(),
            index_hash: self.index_hash(),
            data_hash: data.content_hash(),
        }
    }
}

/// Maps raw features to network inputs in [0, 1]: `(x - min) / (max - min)` with the
/// minimum and maximum over the training split (one pair for all features, so images keep
/// their contrast). Digits: min 0, max 16, so an input is `pixel / 16`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Normaliser {
    pub min: f32,
    pub max: f32,
}

impl Normaliser {
    pub fn fit(data: &Dataset, rows: &[usize]) -> Self {
        let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
        for &r in rows {
            for &v in &data.x[r * data.features..(r + 1) * data.features] {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
        if !(lo.is_finite() && hi.is_finite()) {
            return Self { min: 0.0, max: 1.0 };
        }
        if hi <= lo {
            hi = lo + 1.0;
        }
        Self { min: lo, max: hi }
    }

    #[inline]
    pub fn apply(&self, v: f32) -> f32 {
        ((v - self.min) / (self.max - self.min)).clamp(0.0, 1.0)
    }

    /// Normalised inputs of the given rows, `rows.len() x features`.
    pub fn rows(&self, data: &Dataset, rows: &[usize]) -> Vec<f32> {
        let mut out = Vec::with_capacity(rows.len() * data.features);
        for &r in rows {
            out.extend(
                data.x[r * data.features..(r + 1) * data.features]
                    .iter()
                    .map(|&v| self.apply(v)),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_load_with_expected_counts() {
        let d = digits();
        assert_eq!((d.n, d.features, d.classes()), (1797, 64, 10));
        assert_eq!(d.class_names[9], "9");
        assert!(d.x.iter().all(|&v| (0.0..=16.0).contains(&v)));
        // The UCI file's class sizes: 178 zeros, 182 ones, ..., 180 nines.
        assert_eq!(d.count_of(0), 178);
        assert_eq!(d.count_of(1), 182);
    }

    #[test]
    fn malformed_rows_are_located() {
        let o = CsvOptions::default();
        let e = parse_csv("1,2,0\n3,x,1\n", "a.csv", &o).unwrap_err();
        assert_eq!(
            e.to_string(),
            "a.csv:2: column 2: expected a number, found `x`"
        );
        let e = parse_csv("1,2,0\n\n3,4\n", "b.csv", &o).unwrap_err();
        assert!(e.to_string().starts_with("b.csv:3: expected 3"), "{e}");
        let e = parse_csv("f1,f2,label\n1,2,0\n", "c.csv", &o).unwrap_err();
        assert!(e.to_string().contains("header Present"), "{e}");
        let h = CsvOptions {
            header: Header::Present,
            label: LabelColumn::First,
            image: None,
        };
        let d = parse_csv("label,f1,f2\ncat,1,2\ndog,3,4\ncat,5,6\n", "d.csv", &h).unwrap();
        assert_eq!(d.class_names, vec!["cat", "dog"]);
        assert_eq!(d.y, vec![0, 1, 0]);
        assert_eq!(d.x, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let bad = CsvOptions {
            label: LabelColumn::Index(7),
            ..CsvOptions::default()
        };
        let e = parse_csv("1,2,0\n", "e.csv", &bad).unwrap_err();
        assert!(e.to_string().starts_with("e.csv:1: label column 7"), "{e}");
    }

    #[test]
    fn split_is_stratified_disjoint_and_seeded() {
        let d = digits();
        let s = Split::standard(&d, 7).unwrap();
        assert_eq!(s.train.len() + s.validation.len() + s.test.len(), d.n);
        let mut all: Vec<usize> = s
            .train
            .iter()
            .chain(&s.validation)
            .chain(&s.test)
            .copied()
            .collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), d.n);
        for c in 0..10u32 {
            let nc = d.count_of(c) as f64;
            let tc = s.test.iter().filter(|&&i| d.y[i] == c).count() as f64;
            assert!((tc / nc - 0.25).abs() < 0.01, "class {c}: {tc}/{nc}");
        }
        assert_eq!(s, Split::standard(&d, 7).unwrap());
        assert_ne!(s.index_hash(), Split::standard(&d, 8).unwrap().index_hash());
    }
}
