//! Benchmark: drydock against qemu-img, side by side in one run, on a 4 GiB raw image with
//! 40 % data (half incompressible, half real files from /usr). For each conversion it prints
//! the wall-time ratio drydock / qemu-img, MiB/s of virtual disk and peak RSS of each process.
//!
//! Like with like: drydock fsyncs its output before renaming it into place; qemu-img does
//! not flush unless asked, so it runs with `-t writeback` (one flush at the end). Its time
//! without a flush is printed too. Both read the input from the page cache.
//!
//! Run: `cargo bench --bench convert` (DRYDOCK_BENCH_GIB sets the size, DRYDOCK_BENCH_DIR
//! where the images go, the input is kept there between runs; DRYDOCK_BENCH_REPEAT how many
//! runs (3) of each uncompressed conversion the median is taken over; DRYDOCK_BENCH_ONLY=a,b runs
//! only the conversions named a and b; DRYDOCK_BENCH_SHA256=1 has drydock hash too;
//! DRYDOCK_BENCH_SETTLE the pause before each run, see `fresh`).

use drydock_testkit::measure;

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const MIB: u64 = 1 << 20;
const SLOT: u64 = 4 * MIB;

fn main() {
    let gib: u64 = std::env::var("DRYDOCK_BENCH_GIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let dir = std::env::var_os("DRYDOCK_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("drydock-convert-bench"));
    std::fs::create_dir_all(&dir).expect("bench directory");
    let size = gib << 30;
    let repeat: usize = std::env::var("DRYDOCK_BENCH_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let input = dir.join(format!("input-{gib}g.raw"));
    make_input(&input, size);
    let drydock = env!("CARGO_BIN_EXE_drydock");
    let p = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let inp = input.to_string_lossy().into_owned();
    // The inputs of the last two cases are qemu-img's own outputs of the earlier ones.
    let cases: Vec<(&str, Vec<String>, Vec<String>, bool)> = vec![
        (
            "raw → qcow2",
            vec![inp.clone(), p("dd.qcow2")],
            vec![
                "-f".into(),
                "raw".into(),
                "-O".into(),
                "qcow2".into(),
                inp.clone(),
                p("q.qcow2"),
            ],
            false,
        ),
        (
            "raw → VHD fixed",
            vec!["--to".into(), "vhd".into(), inp.clone(), p("dd.vhd")],
            vec![
                "-f".into(),
                "raw".into(),
                "-O".into(),
                "vpc".into(),
                "-o".into(),
                "subformat=fixed,force_size=on".into(),
                inp.clone(),
                p("q.vhd"),
            ],
            false,
        ),
        (
            "raw → VMDK stream",
            vec![inp.clone(), p("dd.vmdk")],
            vec![
                "-f".into(),
                "raw".into(),
                "-O".into(),
                "vmdk".into(),
                "-o".into(),
                "subformat=streamOptimized".into(),
                inp.clone(),
                p("q.vmdk"),
            ],
            true,
        ),
        (
            "raw → qcow2 compressed",
            vec!["--compress".into(), inp.clone(), p("ddc.qcow2")],
            vec![
                "-f".into(),
                "raw".into(),
                "-c".into(),
                "-O".into(),
                "qcow2".into(),
                inp.clone(),
                p("qc.qcow2"),
            ],
            true,
        ),
        (
            "VMDK stream → raw",
            vec![p("q.vmdk"), p("dd-from-vmdk.raw")],
            vec![
                "-f".into(),
                "vmdk".into(),
                "-O".into(),
                "raw".into(),
                p("q.vmdk"),
                p("q-from-vmdk.raw"),
            ],
            false,
        ),
        (
            "qcow2 → VHD fixed",
            vec![
                "--to".into(),
                "vhd".into(),
                p("q.qcow2"),
                p("dd-from-qcow2.vhd"),
            ],
            vec![
                "-f".into(),
                "qcow2".into(),
                "-O".into(),
                "vpc".into(),
                "-o".into(),
                "subformat=fixed,force_size=on".into(),
                p("q.qcow2"),
                p("q-from-qcow2.vhd"),
            ],
            false,
        ),
    ];
    let vmib = size as f64 / MIB as f64;
    println!(
        "input: {} ({gib} GiB, 40 % data: half incompressible, half files from /usr)",
        input.display()
    );
    println!(
        "{:<24} {:>10} {:>12} {:>7} {:>10} {:>10} {:>9} {:>9} {:>12} {:>7}",
        "conversion",
        "drydock s",
        "qemu-img s",
        "ratio",
        "dd MiB/s",
        "qemu MiB/s",
        "dd RSS",
        "qemu RSS",
        "qemu noflush",
        "target"
    );
    let only = std::env::var("DRYDOCK_BENCH_ONLY").unwrap_or_default();
    for (name, dd_args, q_args, compressed) in &cases {
        if !only.is_empty() && !only.split(',').any(|o| *name == o.trim()) {
            continue;
        }
        let q_out = q_args.last().unwrap().clone();
        let dd_out = dd_args.last().unwrap().clone();
        let dd_in = dd_args[dd_args.len() - 2].clone();
        // Uncompressed runs are short and the disk's flush time varies: take the median of
        // `repeat` runs, alternating the two tools.
        let repeat = if *compressed { 1 } else { repeat };
        let (mut qn, mut qs, mut ds) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..repeat {
            let mut a = vec!["convert".to_string()];
            a.extend(q_args.iter().cloned());
            qn.push(fresh(&q_out, &dd_in, || run("qemu-img", &a)));
            let mut a = vec!["convert".to_string(), "-t".into(), "writeback".into()];
            a.extend(q_args.iter().cloned());
            qs.push(fresh(&q_out, &dd_in, || run("qemu-img", &a)));
            let mut a = vec!["convert".to_string(), "-q".into()];
            if std::env::var_os("DRYDOCK_BENCH_SHA256").is_some() {
                a.push("--sha256".into());
            }
            a.extend(dd_args.iter().cloned());
            ds.push(fresh(&dd_out, &dd_in, || run(drydock, &a)));
        }
        let (q_noflush, _) = median(qn);
        let (q_time, q_rss) = median(qs);
        let (d_time, d_rss) = median(ds);
        let ratio = d_time / q_time;
        let target = if *compressed { 0.2 } else { 1.0 };
        println!(
            "{:<24} {:>10.2} {:>12.2} {:>7.3} {:>10.0} {:>10.0} {:>7.1}MB {:>7.1}MB {:>12.2} {:>7}",
            name,
            d_time,
            q_time,
            ratio,
            vmib / d_time,
            vmib / q_time,
            d_rss,
            q_rss,
            q_noflush,
            format!(
                "≤{target} {}",
                if ratio <= target && d_rss <= 64.0 {
                    "ok"
                } else {
                    "MISS"
                }
            )
        );
        let _ = std::fs::remove_file(&dd_out);
        if !name.starts_with("raw → qcow2 compressed")
            && !name.starts_with("raw → VMDK")
            && !name.starts_with("raw → qcow2")
        {
            let _ = std::fs::remove_file(&q_out);
        }
    }
    for f in ["q.qcow2", "q.vmdk", "qc.qcow2"] {
        let _ = std::fs::remove_file(dir.join(f));
    }
}

/// Run with no output file present, nothing dirty in the page cache, memory settled and the
/// input read into the page cache.
///
/// On a VM whose balloon reports free pages to the host, memory freed moments ago is cheap
/// to reuse and memory freed seconds ago is not, and that alone swings a run by 4×. So each
/// run starts after `DRYDOCK_BENCH_SETTLE` seconds (4) from the last deletion: every tool
/// meets the same, cold, state. Idle page cache is taken back too, hence the warm-up.
fn fresh(out: &str, input: &str, f: impl FnOnce() -> (f64, f64)) -> (f64, f64) {
    let _ = std::fs::remove_file(out);
    sync();
    let settle: f64 = std::env::var("DRYDOCK_BENCH_SETTLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4.0);
    std::thread::sleep(std::time::Duration::from_secs_f64(settle));
    warm(input);
    f()
}

/// Read a file through the page cache.
fn warm(path: &str) {
    let Ok(file) = File::open(path) else { return };
    let mut buf = vec![0u8; 8 << 20];
    let mut at = 0u64;
    while let Ok(n) = file.read_at(&mut buf, at) {
        if n == 0 {
            break;
        }
        at += n as u64;
    }
}

/// The run with the median time.
fn median(mut runs: Vec<(f64, f64)>) -> (f64, f64) {
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    runs[runs.len() / 2]
}

fn sync() {
    // SAFETY: sync(2) takes no arguments.
    unsafe { libc::sync() };
}

/// Run a command; its wall time in seconds and peak RSS in MiB.
fn run(program: &str, args: &[String]) -> (f64, f64) {
    let m = measure::measure(
        Command::new(program)
            .args(args)
            .stdout(std::process::Stdio::null()),
    );
    assert!(
        m.status == 0,
        "{program} {args:?} failed (status {})",
        m.status
    );
    (m.secs, m.maxrss_kib as f64 / 1024.0)
}

/// The input image: 40 % of its 4 MiB slots hold data, alternately random bytes and files
/// from /usr; the rest is holes. Kept between runs.
fn make_input(path: &Path, size: u64) {
    if std::fs::metadata(path).is_ok_and(|m| m.len() == size) {
        return;
    }
    eprintln!("making {} ...", path.display());
    let tmp = path.with_extension("tmp");
    let f = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(&tmp)
        .expect("create input");
    f.set_len(size).expect("size input");
    let slots = size / SLOT;
    let mut files = usr_files();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut buf = vec![0u8; SLOT as usize];
    let mut data_slots = 0;
    for slot in 0..slots {
        // 40 % of slots, spread evenly.
        if (slot * 2 + 2) / 5 == (slot * 2) / 5 && slot % 5 != 0 {
            continue;
        }
        if data_slots * 5 >= slots * 2 {
            break;
        }
        if data_slots % 2 == 0 {
            for w in buf.chunks_exact_mut(8) {
                w.copy_from_slice(&next().to_le_bytes());
            }
        } else {
            fill_from_files(&mut files, &mut buf);
        }
        f.write_all_at(&buf, slot * SLOT).expect("write input");
        data_slots += 1;
    }
    f.sync_all().expect("sync input");
    std::fs::rename(&tmp, path).expect("rename input");
    eprintln!("{data_slots} of {slots} slots hold data");
}

/// Regular files under /usr, read in order and cycled.
struct Files {
    list: Vec<PathBuf>,
    at: usize,
    current: Option<File>,
}

fn usr_files() -> Files {
    let mut list = Vec::new();
    let mut stack = vec![
        PathBuf::from("/usr/lib"),
        PathBuf::from("/usr/share"),
        PathBuf::from("/usr/bin"),
    ];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(t) = e.file_type() else { continue };
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                list.push(e.path());
            }
        }
    }
    list.sort();
    Files {
        list,
        at: 0,
        current: None,
    }
}

fn fill_from_files(files: &mut Files, buf: &mut [u8]) {
    let mut done = 0;
    while done < buf.len() {
        if files.current.is_none() {
            let path = &files.list[files.at % files.list.len()];
            files.at += 1;
            files.current = File::open(path).ok();
            continue;
        }
        let n = std::io::Read::read(files.current.as_mut().unwrap(), &mut buf[done..]).unwrap_or(0);
        if n == 0 {
            files.current = None;
        }
        done += n;
    }
}
