//! The disk-image conversion engine: one module per format, a streaming pipeline (reader →
//! chunks with a 4 KiB zero map → writer), an atomic, hashed output, and OVA packing.
//! Knows nothing of the UI: progress goes to a callback.

pub mod bytes;
pub mod deflate;
pub mod disk;
pub mod error;
pub mod input;
pub mod ova;
mod ova_manifest;
pub mod pipeline;
pub mod qcow2;
pub mod raw;
pub mod sink;
pub mod source;
pub mod stream;
pub mod vhd;
pub mod vhdx;
pub mod vmdk;

pub use disk::{ChunkWriter, DiskInfo, DiskReader, DiskWriter};
pub use error::{ConvertError, Result};
pub use pipeline::Progress;
pub use sink::Committed;

use source::Source;
use std::path::Path;
use std::time::{Duration, Instant};

/// A disk-image format by its command-line name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Raw,
    Qcow2,
    /// Fixed VHD.
    Vhd,
    VhdDynamic,
    /// streamOptimized VMDK.
    Vmdk,
    /// monolithicSparse VMDK.
    VmdkSparse,
    /// A VMDK text descriptor with flat (or other) extents; read only.
    VmdkDescriptor,
    /// Read only.
    Vhdx,
    Ova,
}

impl Format {
    pub const NAMES: &'static [&'static str] = &[
        "raw",
        "qcow2",
        "vhd",
        "vhd-dynamic",
        "vmdk",
        "vmdk-sparse",
        "vhdx",
        "ova",
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Raw => "raw",
            Format::Qcow2 => "qcow2",
            Format::Vhd => "vhd",
            Format::VhdDynamic => "vhd-dynamic",
            Format::Vmdk => "vmdk",
            Format::VmdkSparse => "vmdk-sparse",
            Format::VmdkDescriptor => "vmdk-descriptor",
            Format::Vhdx => "vhdx",
            Format::Ova => "ova",
        }
    }

    pub fn parse(name: &str) -> Result<Format> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "raw" | "img" => Format::Raw,
            "qcow2" => Format::Qcow2,
            "vhd" | "vpc" => Format::Vhd,
            "vhd-dynamic" => Format::VhdDynamic,
            "vmdk" => Format::Vmdk,
            "vmdk-sparse" => Format::VmdkSparse,
            "vmdk-descriptor" => Format::VmdkDescriptor,
            "vhdx" => Format::Vhdx,
            "ova" => Format::Ova,
            other => {
                return Err(ConvertError::Usage(format!(
                    "unknown format {other:?}; formats: {}",
                    Format::NAMES.join(", ")
                )))
            }
        })
    }

    /// The output format an extension implies (`.vhd` is fixed, `.vmdk` streamOptimized).
    pub fn from_extension(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "raw" | "img" | "bin" => Format::Raw,
            "qcow2" => Format::Qcow2,
            "vhd" => Format::Vhd,
            "vmdk" => Format::Vmdk,
            "vhdx" => Format::Vhdx,
            "ova" => Format::Ova,
            _ => return None,
        })
    }

    /// Whether drydock can write this format.
    pub fn writable(self) -> bool {
        !matches!(self, Format::Vhdx | Format::VmdkDescriptor)
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Find an image's format from its content.
pub fn probe(src: &Source) -> Result<Format> {
    let mut head = [0u8; 512];
    let n = src.read_upto(0, &mut head)?;
    let head = &head[..n];
    if head.starts_with(qcow2::MAGIC) {
        return Ok(Format::Qcow2);
    }
    if head.starts_with(vmdk::MAGIC) {
        // A file too short for its flags is a sparse VMDK whose header the reader
        // refuses, naming the offset.
        let flags = bytes::get_le32(head, 8).unwrap_or(0);
        return Ok(if flags & vmdk::FLAG_COMPRESSED != 0 {
            Format::Vmdk
        } else {
            Format::VmdkSparse
        });
    }
    if ova::looks_like_ova(head) {
        return Ok(Format::Ova);
    }
    if head.starts_with(vhdx::SIGNATURE) {
        return Ok(Format::Vhdx);
    }
    if vmdk::is_descriptor(head) {
        return Ok(Format::VmdkDescriptor);
    }
    if head.starts_with(vhd::COOKIE) {
        return Ok(Format::VhdDynamic);
    }
    if vhd::footer_at_end(src).is_some() {
        return Ok(Format::Vhd);
    }
    Ok(Format::Raw)
}

/// Open a reader for an image, probing its format unless `from` is given.
pub fn open_reader(path: &Path, from: Option<Format>) -> Result<Box<dyn DiskReader>> {
    let src = Source::open(path)?;
    let format = match from {
        Some(f) => f,
        None => probe(&src)?,
    };
    open_source(src, format)
}

fn open_source(src: Source, format: Format) -> Result<Box<dyn DiskReader>> {
    Ok(match format {
        Format::Raw => Box::new(raw::RawReader::new(src, Format::Raw)),
        Format::Qcow2 => Box::new(qcow2::Qcow2Reader::open(src)?),
        Format::Vhd | Format::VhdDynamic => vhd::open(src)?,
        Format::Vhdx => Box::new(vhdx::VhdxReader::open(src)?),
        Format::Ova => {
            let disk = ova::disk_member(&src)?;
            let format = probe(&disk)?;
            if format == Format::Ova {
                return Err(error::corrupt(
                    "ova",
                    "tar member",
                    0,
                    "an OVA inside an OVA",
                ));
            }
            open_source(disk, format)?
        }
        Format::Vmdk | Format::VmdkSparse | Format::VmdkDescriptor => {
            let mut head = [0u8; 4];
            src.read_upto(0, &mut head)?;
            if &head == vmdk::MAGIC {
                Box::new(vmdk::SparseReader::open(src)?)
            } else {
                Box::new(vmdk::DescriptorReader::open(src)?)
            }
        }
    })
}

/// Refuses to replace an existing `output`: a conversion never overwrites a file unless the
/// caller was told to (`--force`, or a confirmation in the dashboard).
pub fn refuse_existing(output: &Path) -> Result<(), ConvertError> {
    match std::fs::symlink_metadata(output) {
        Ok(m) => Err(ConvertError::Usage(format!(
            "{} already exists ({} bytes); pass --force to replace it",
            output.display(),
            m.len()
        ))),
        Err(_) => Ok(()),
    }
}

/// What `convert` is asked to do.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub from: Option<Format>,
    pub to: Option<Format>,
    /// Azure rules: fixed VHD with a whole-MiB virtual size.
    pub azure: bool,
    /// Compress where the output format can (qcow2).
    pub compress: bool,
    /// Compression threads (0: one per core).
    pub threads: usize,
    /// Compute the output's SHA-256 while writing (a second core hashes what is final).
    pub sha256: bool,
    /// For OVA output: the virtual machine described (default: named after the file).
    pub hardware: Option<ova::Hardware>,
}

/// What a conversion did.
#[derive(Clone, Debug)]
pub struct Report {
    pub input: DiskInfo,
    pub output_format: Format,
    pub output: Committed,
    /// Guest bytes in non-zero pages.
    pub data_bytes: u64,
    pub elapsed: Duration,
    pub warnings: Vec<String>,
}

/// Resolve the output format from the options and the output's extension.
pub fn output_format(output: &Path, opts: &Options) -> Result<Format> {
    let to = match (opts.to, opts.azure) {
        (Some(Format::Vhd) | None, true) => Format::Vhd,
        (Some(other), true) => {
            return Err(ConvertError::Usage(format!(
                "--azure writes a fixed VHD; it cannot be combined with --to {other}"
            )))
        }
        (Some(f), false) => f,
        (None, false) => Format::from_extension(output).ok_or_else(|| {
            ConvertError::Usage(format!(
                "cannot tell the output format from {}; pass --to ({})",
                output.display(),
                Format::NAMES.join(", ")
            ))
        })?,
    };
    if !to.writable() {
        return Err(ConvertError::Usage(format!(
            "drydock reads {to} but does not write it"
        )));
    }
    if opts.compress && to != Format::Qcow2 {
        return Err(ConvertError::Usage(format!(
            "--compress applies to qcow2 (vmdk and ova are always compressed); not to {to}"
        )));
    }
    Ok(to)
}

pub fn threads(opts: &Options) -> usize {
    if opts.threads > 0 {
        opts.threads
    } else {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    }
}

/// The writer of format `to` for a disk of `size` bytes into `sink` (whose destination is
/// `output`, which names a VMDK's extent and an OVA's machine).
pub fn writer_for(
    to: Format,
    sink: sink::Sink,
    size: u64,
    output: &Path,
    opts: &Options,
) -> Result<Box<dyn DiskWriter>> {
    Ok(match to {
        Format::Raw => Box::new(raw::RawWriter::new(sink, size)),
        Format::Qcow2 => Box::new(qcow2::Qcow2Writer::new(
            sink,
            size,
            opts.compress,
            threads(opts),
        )?),
        Format::Vhd => Box::new(vhd::FixedWriter::new(sink, size, opts.azure)?),
        Format::VhdDynamic => Box::new(vhd::DynamicWriter::new(sink, size)?),
        Format::Vmdk => Box::new(vmdk::StreamWriter::new(
            sink,
            size,
            &file_name(output),
            threads(opts),
        )?),
        Format::VmdkSparse => Box::new(vmdk::SparseWriter::new(sink, size, &file_name(output))?),
        Format::Ova => Box::new(ova::OvaWriter::new(
            sink,
            size,
            opts.hardware.clone().unwrap_or_else(|| ova::Hardware {
                name: stem(output),
                cpus: 2,
                memory_mib: 4096,
            }),
            threads(opts),
        )?),
        other => {
            return Err(ConvertError::Usage(format!(
                "writing {other} is not built yet"
            )))
        }
    })
}

/// Convert `input` into `output`. The output appears only when complete and durable.
pub fn convert(
    input: &Path,
    output: &Path,
    opts: &Options,
    progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<Report> {
    let started = Instant::now();
    let to = output_format(output, opts)?;
    if same_file(input, output) {
        return Err(ConvertError::Usage(format!(
            "{} is both the input and the output",
            output.display()
        )));
    }
    let mut reader = open_reader(input, opts.from)?;
    let size = reader.info().virtual_size;
    let sink = sink::Sink::create(output, opts.sha256)?;
    let mut writer = writer_for(to, sink, size, output, opts)?;
    let data_bytes = pipeline::pump(reader.as_mut(), writer.as_mut(), progress)?;
    let finished = writer.finish()?;
    let committed = finished.sink.commit()?;
    Ok(Report {
        input: reader.info().clone(),
        output_format: to,
        output: committed,
        data_bytes,
        elapsed: started.elapsed(),
        warnings: finished.warnings,
    })
}

/// Bytes in binary units (`512 B`, `1.5 GiB`), as the CLI and the Conversions view show them.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A path's file name, for descriptors that name their own extent.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| "disk.vmdk".into(), |n| n.to_string_lossy().into_owned())
}

/// A path's stem (an OVA's virtual machine name).
pub fn stem(path: &Path) -> String {
    path.file_stem()
        .map_or_else(|| "disk".into(), |n| n.to_string_lossy().into_owned())
}

fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// What `--check` found.
#[derive(Clone, Debug)]
pub struct CheckReport {
    pub info: DiskInfo,
    pub data_bytes: u64,
}

/// Validate an image: parse every header and table and read every allocated byte.
pub fn check(
    path: &Path,
    from: Option<Format>,
    progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<CheckReport> {
    let mut reader = open_reader(path, from)?;
    let mut null = NullWriter;
    let data_bytes = pipeline::pump(reader.as_mut(), &mut null, progress)?;
    Ok(CheckReport {
        info: reader.info().clone(),
        data_bytes,
    })
}

/// Discards chunks (for `--check`).
struct NullWriter;

impl disk::ChunkWriter for NullWriter {
    fn write(&mut self, _chunk: &disk::Chunk) -> Result<()> {
        Ok(())
    }

    fn skip(&mut self, _offset: u64, _len: u64) -> Result<bool> {
        Ok(true)
    }
}
