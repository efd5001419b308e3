//! Every hand-written kernel in `workloads/kernels/` runs on the reference interpreter with
//! seeded random inputs, and its outputs must equal an independent plain-Rust
//! implementation of the same algorithm (wrapping 32-bit arithmetic) written here.

use std::collections::HashMap;
use std::path::PathBuf;
use tessera_ir::interp::{self, Inputs, NamedArray, Outputs};
use tessera_ir::{Kernel, lang};

const SEEDS: [u64; 4] = [1, 2, 7, 12345];

fn kernel_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../workloads/kernels/{name}.tk"))
}

fn load(name: &str, params: &[(&str, i64)]) -> Kernel {
    let params: Vec<(String, i64)> = params.iter().map(|(n, v)| (n.to_string(), *v)).collect();
    lang::parse_file(&kernel_path(name), &params).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Named view of a kernel's inputs.
struct In<'a> {
    k: &'a Kernel,
    inp: &'a Inputs,
}

impl In<'_> {
    fn arr(&self, name: &str) -> Vec<i32> {
        let i = self
            .k
            .array_index(name)
            .unwrap_or_else(|| panic!("no array {name}"));
        self.inp.arrays[i].clone()
    }
    fn scalar(&self, name: &str) -> i32 {
        let i = self
            .k
            .scalars
            .iter()
            .position(|s| s.name == name)
            .expect("scalar");
        self.inp.scalars[i]
    }
}

/// Check a kernel against a reference on several seeds. The reference returns the final
/// contents of the output arrays it changed (by name; others keep their input contents)
/// and the live-outs in declaration order.
fn check<F>(name: &str, params: &[(&str, i64)], reference: F)
where
    F: Fn(&In) -> (HashMap<&'static str, Vec<i32>>, Vec<i32>),
{
    let k = load(name, params);
    k.validate().unwrap();
    for seed in SEEDS {
        let inp = interp::random_inputs(&k, seed);
        let got = interp::run(&k, &inp).unwrap_or_else(|e| panic!("{name} seed {seed}: {e}"));
        let view = In { k: &k, inp: &inp };
        let (arrays, live) = reference(&view);
        let expected = Outputs {
            arrays: k
                .arrays
                .iter()
                .enumerate()
                .filter(|(_, a)| a.is_output())
                .map(|(i, a)| NamedArray {
                    name: a.name.clone(),
                    values: arrays
                        .get(a.name.as_str())
                        .cloned()
                        .unwrap_or_else(|| inp.arrays[i].clone()),
                    elem: a.elem,
                })
                .collect(),
            live_outs: k
                .live_outs
                .iter()
                .map(|l| l.name.clone())
                .zip(live)
                .collect(),
        };
        assert_eq!(
            expected.live_outs.len(),
            k.live_outs.len(),
            "{name}: live-out count"
        );
        if let Some(d) = expected.first_divergence(&got) {
            panic!("{name} seed {seed}: {d}");
        }
    }
}

fn map1(name: &'static str, v: Vec<i32>) -> HashMap<&'static str, Vec<i32>> {
    HashMap::from([(name, v)])
}

#[test]
fn dot() {
    check("dot", &[], |i| {
        let (a, b) = (i.arr("a"), i.arr("b"));
        let s = a
            .iter()
            .zip(&b)
            .fold(0i32, |s, (x, y)| s.wrapping_add(x.wrapping_mul(*y)));
        (HashMap::new(), vec![s])
    });
    check("dot", &[("n", 5)], |i| {
        let (a, b) = (i.arr("a"), i.arr("b"));
        assert_eq!(a.len(), 5);
        let s = a
            .iter()
            .zip(&b)
            .fold(0i32, |s, (x, y)| s.wrapping_add(x.wrapping_mul(*y)));
        (HashMap::new(), vec![s])
    });
}

#[test]
fn fir() {
    check("fir", &[], |i| {
        let (x, c) = (i.arr("x"), i.arr("c"));
        let n = x.len() - 7;
        let y = (0..n)
            .map(|k| (0..8).fold(0i32, |s, t| s.wrapping_add(c[t].wrapping_mul(x[k + t]))))
            .collect();
        (map1("y", y), vec![])
    });
}

#[test]
fn conv1d() {
    check("conv1d", &[], |i| {
        let x = i.arr("x");
        let (w0, w1, w2) = (i.scalar("w0"), i.scalar("w1"), i.scalar("w2"));
        let mut y = i.arr("y");
        for k in 1..x.len() - 1 {
            y[k] = w0
                .wrapping_mul(x[k - 1])
                .wrapping_add(w1.wrapping_mul(x[k]))
                .wrapping_add(w2.wrapping_mul(x[k + 1]));
        }
        (map1("y", y), vec![])
    });
}

#[test]
fn conv2d() {
    check("conv2d", &[], |i| {
        let (img, k) = (i.arr("img"), i.arr("k"));
        let w = img.len() / 3;
        let y = (0..w - 2)
            .map(|j| {
                let mut s = 0i32;
                for r in 0..3 {
                    for c in 0..3 {
                        s = s.wrapping_add(k[3 * r + c].wrapping_mul(img[r * w + j + c]));
                    }
                }
                s >> 4
            })
            .collect();
        (map1("y", y), vec![])
    });
}

#[test]
fn gemm() {
    check("gemm", &[], |i| {
        let b = i.arr("b");
        let a = [
            i.scalar("a0"),
            i.scalar("a1"),
            i.scalar("a2"),
            i.scalar("a3"),
        ];
        let mut c = i.arr("c");
        let n = c.len();
        for (j, cj) in c.iter_mut().enumerate() {
            let mut s = 0i32;
            for (kk, ak) in a.iter().enumerate() {
                s = s.wrapping_add(ak.wrapping_mul(b[kk * n + j]));
            }
            *cj = cj.wrapping_add(s);
        }
        (map1("c", c), vec![])
    });
}

#[test]
fn saxpy() {
    check("saxpy", &[], |i| {
        let a = i.scalar("a");
        let x = i.arr("x");
        let y: Vec<i32> = i
            .arr("y")
            .iter()
            .zip(&x)
            .map(|(y, x)| a.wrapping_mul(*x).wrapping_add(*y))
            .collect();
        (map1("y", y), vec![])
    });
}

#[test]
fn histogram() {
    check("histogram", &[], |i| {
        let mut h = i.arr("hist");
        assert!(h.iter().all(|v| *v == 0));
        for v in i.arr("x") {
            h[v as usize] += 1;
        }
        (map1("hist", h), vec![])
    });
}

#[test]
fn prefix_sum() {
    check("prefix_sum", &[], |i| {
        let mut acc = 0i32;
        let y: Vec<i32> = i
            .arr("x")
            .iter()
            .map(|v| {
                acc = acc.wrapping_add(*v);
                acc
            })
            .collect();
        (map1("y", y), vec![acc])
    });
}

#[test]
fn iir_biquad() {
    check("iir_biquad", &[], |i| {
        let c: Vec<i32> = ["b0", "b1", "b2", "a1", "a2"]
            .iter()
            .map(|n| i.scalar(n))
            .collect();
        let (mut x1, mut x2, mut y1, mut y2) = (0i32, 0i32, 0i32, 0i32);
        let mut y = Vec::new();
        for xn in i.arr("x") {
            let acc = c[0]
                .wrapping_mul(xn)
                .wrapping_add(c[1].wrapping_mul(x1))
                .wrapping_add(c[2].wrapping_mul(x2))
                .wrapping_sub(c[3].wrapping_mul(y1))
                .wrapping_sub(c[4].wrapping_mul(y2));
            let yn = acc >> 14;
            y.push(yn);
            (x2, x1, y2, y1) = (x1, xn, y1, yn);
        }
        (map1("y", y), vec![y1])
    });
}

#[test]
fn horner() {
    check("horner", &[], |i| {
        let x = i.scalar("x");
        let acc = i
            .arr("c")
            .iter()
            .fold(0i32, |acc, c| (acc.wrapping_mul(x) >> 12).wrapping_add(*c));
        (HashMap::new(), vec![acc])
    });
}

/// Table-driven CRC-32 (a different algorithm from the kernel's bitwise one).
fn crc32_table(data: &[u8]) -> u32 {
    let table: Vec<u32> = (0..256u32)
        .map(|n| {
            (0..8).fold(n, |c, _| {
                if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                }
            })
        })
        .collect();
    !data.iter().fold(0xFFFF_FFFFu32, |c, b| {
        table[((c ^ *b as u32) & 0xFF) as usize] ^ (c >> 8)
    })
}

#[test]
fn crc32() {
    check("crc32", &[], |i| {
        let data: Vec<u8> = i.arr("data").iter().map(|v| *v as u8).collect();
        (HashMap::new(), vec![!crc32_table(&data) as i32])
    });
    // The standard check value: CRC-32("123456789") = 0xCBF43926.
    let k = load("crc32", &[("n", 9)]);
    let inputs = Inputs {
        scalars: vec![],
        arrays: vec![b"123456789".iter().map(|b| *b as i32).collect()],
        seed: None,
    };
    let out = interp::run(&k, &inputs).unwrap();
    assert_eq!(!(out.live_outs[0].1 as u32), 0xCBF4_3926);
}

#[test]
fn lfsr() {
    check("lfsr", &[], |i| {
        let mut s = i.scalar("seed") as u32;
        let mut y = Vec::new();
        for _ in 0..i.arr("y").len() {
            let lsb = s & 1;
            s >>= 1;
            if lsb != 0 {
                s ^= 0x8020_0003;
            }
            y.push((s & 0xFF) as i32);
        }
        (map1("y", y), vec![s as i32])
    });
}

#[test]
fn adpcm_decode() {
    check("adpcm_decode", &[], |i| {
        let (steptab, idxtab) = (i.arr("steptab"), i.arr("idxtab"));
        let (mut pred, mut idx) = (0i32, 0i32);
        let mut y = Vec::new();
        for c in i.arr("code") {
            let step = steptab[idx as usize];
            let mut diff = step >> 3;
            if c & 4 != 0 {
                diff += step;
            }
            if c & 2 != 0 {
                diff += step >> 1;
            }
            if c & 1 != 0 {
                diff += step >> 2;
            }
            pred = if c & 8 != 0 { pred - diff } else { pred + diff };
            pred = pred.clamp(-32768, 32767);
            idx = (idx + idxtab[c as usize]).clamp(0, 88);
            y.push(pred);
        }
        (map1("y", y), vec![pred, idx])
    });
}

#[test]
fn mandelbrot() {
    check("mandelbrot", &[], |i| {
        let (cx, cy) = (i.scalar("cx"), i.scalar("cy"));
        let (mut zx, mut zy, mut count) = (0i32, 0i32, 0i32);
        for _ in 0..64 {
            let x2 = zx.wrapping_mul(zx) >> 12;
            let y2 = zy.wrapping_mul(zy) >> 12;
            if x2.wrapping_add(y2) > 16384 {
                break;
            }
            let nx = x2.wrapping_sub(y2).wrapping_add(cx);
            zy = (zx.wrapping_mul(zy) >> 11).wrapping_add(cy);
            zx = nx;
            count += 1;
        }
        (HashMap::new(), vec![count, zx, zy])
    });
}

#[test]
fn matvec() {
    check("matvec", &[], |i| {
        let (a, x) = (i.arr("a"), i.arr("x"));
        let y = a
            .chunks(8)
            .map(|row| {
                row.iter()
                    .zip(&x)
                    .fold(0i32, |s, (p, q)| s.wrapping_add(p.wrapping_mul(*q)))
            })
            .collect();
        (map1("y", y), vec![])
    });
}

#[test]
fn minmax() {
    check("minmax", &[], |i| {
        let x = i.arr("x");
        let lo = *x.iter().min().unwrap();
        let hi = *x.iter().max().unwrap();
        let arg = x.iter().position(|v| *v == hi).unwrap() as i32;
        (HashMap::new(), vec![lo, hi, arg])
    });
}

#[test]
fn sort4() {
    check("sort4", &[], |i| {
        let mut x = i.arr("x");
        for g in x.chunks_mut(4) {
            g.sort();
        }
        (map1("y", x), vec![])
    });
}

#[test]
fn ema() {
    check("ema", &[], |i| {
        let alpha = i.scalar("alpha");
        let mut acc = 0i32;
        let y = i
            .arr("x")
            .iter()
            .map(|x| {
                acc = acc.wrapping_add(x.wrapping_sub(acc).wrapping_mul(alpha) >> 8);
                acc
            })
            .collect();
        (map1("y", y), vec![acc])
    });
}

#[test]
fn viterbi_acs() {
    check("viterbi_acs", &[], |i| {
        let (bm0, bm1) = (i.arr("bm0"), i.arr("bm1"));
        let (mut m0, mut m1) = (0i32, 0i32);
        let mut d = Vec::new();
        for (x, y) in bm0.iter().zip(&bm1) {
            let (a0, b0, a1, b1) = (m0 + x, m1 + y, m0 + y, m1 + x);
            let (n0, n1) = (a0.min(b0), a1.min(b1));
            d.push((a0 > b0) as i32 | (((a1 > b1) as i32) << 1));
            let lo = n0.min(n1);
            (m0, m1) = (n0 - lo, n1 - lo);
        }
        (map1("d", d), vec![m0, m1])
    });
}

#[test]
fn sad() {
    check("sad", &[], |i| {
        let s = i
            .arr("a")
            .iter()
            .zip(i.arr("b"))
            .map(|(x, y)| (x - y).abs())
            .sum();
        (HashMap::new(), vec![s])
    });
}
