//! The conversion engine against qemu-img as the oracle: drydock reads what qemu-img writes,
//! qemu-img reads (compare, check, info) what drydock writes, and hostile images fail with
//! an error naming format, structure and offset, leaving nothing at the destination.

use drydock::convert::{self, ConvertError, Format, Options};
use std::path::{Path, PathBuf};
use std::process::Command;

fn qemu_img(args: &[&str]) -> String {
    let out = Command::new("qemu-img")
        .args(args)
        .output()
        .expect("qemu-img is installed");
    assert!(
        out.status.success(),
        "qemu-img {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn virtual_size(path: &Path, fmt: &str) -> u64 {
    let json = qemu_img(&["info", "--output=json", "-f", fmt, path.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["virtual-size"].as_u64().unwrap()
}

/// A raw image of `size` bytes: random data, text-like data, zero gaps, and data in the
/// last partial cluster.
fn make_raw(dir: &Path, name: &str, size: u64, seed: u64) -> PathBuf {
    let mut state = seed | 1;
    let mut rnd = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut bytes = vec![0u8; size as usize];
    let mut at = 0usize;
    while at < bytes.len() {
        let kind = rnd() % 4;
        let len = ((rnd() % 300_000) as usize + 1).min(bytes.len() - at);
        match kind {
            0 => bytes[at..at + len]
                .iter_mut()
                .for_each(|b| *b = rnd() as u8),
            1 => {
                let text =
                    b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n";
                for (i, b) in bytes[at..at + len].iter_mut().enumerate() {
                    *b = text[i % text.len()];
                }
            }
            _ => {}
        }
        at += len;
    }
    let tail = bytes.len().saturating_sub(700);
    bytes[tail..tail + 100].fill(0xAB);
    let path = dir.join(name);
    std::fs::write(&path, &bytes).unwrap();
    path
}

fn no_progress() -> impl FnMut(convert::Progress) -> bool {
    |_| true
}

fn to_raw(input: &Path, out: &Path) -> convert::Report {
    convert::convert(
        input,
        out,
        &Options {
            to: Some(Format::Raw),
            sha256: true,
            ..Options::default()
        },
        &mut no_progress(),
    )
    .unwrap_or_else(|e| panic!("drydock reading {}: {e}", input.display()))
}

/// Sizes: MiB-aligned, sector-aligned but not MiB-aligned, small.
const SIZES: &[u64] = &[10 << 20, 5_000_192, (1 << 20) + 1536];

fn sha256_of(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(path).unwrap();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

mod cli;
mod hostile;
mod parity;
mod readers;
mod writers;
