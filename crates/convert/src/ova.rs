//! OVA: a USTAR tar holding the OVF descriptor first, then the `.mf` manifest (SHA-256 of
//! each file), then the disk as a streamOptimized VMDK. Packing is one pass: the disk streams
//! into the tar behind a reserved prefix, and the descriptor and manifest — which need the
//! disk's size and digest — are written into that prefix at the end. Unpacking verifies the
//! manifest before anything appears in the destination directory.

use super::disk::{Chunk, ChunkWriter, DiskWriter, Finished};
use super::error::{corrupt, io_err, unsupported, ConvertError, Result};
use super::ova_manifest::{manifest, manifest_checks, read_member, verify_once, Digests};
use super::sink::{hex, Sink};
use super::source::Source;
use super::vmdk::StreamWriter;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const F: &str = "ova";
const BLOCK: u64 = 512;

/// What goes into the OVF's virtual hardware section.
#[derive(Clone, Debug)]
pub struct Hardware {
    pub name: String,
    pub cpus: u32,
    pub memory_mib: u64,
}

/// The member names of an OVA called `name`.
fn members(name: &str) -> (String, String, String) {
    (
        format!("{name}.ovf"),
        format!("{name}.mf"),
        format!("{name}-disk1.vmdk"),
    )
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// The OVF descriptor (OVF 1.0, as VMware writes it).
pub fn ovf(
    hw: &Hardware,
    disk_file: &str,
    file_size: u64,
    capacity: u64,
    populated: u64,
) -> String {
    let name = xml_escape(&hw.name);
    let disk_file = xml_escape(disk_file);
    let (cpus, mem) = (hw.cpus, hw.memory_mib);
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <References>
    <File ovf:href="{disk_file}" ovf:id="file1" ovf:size="{file_size}"/>
  </References>
  <DiskSection>
    <Info>Virtual disk information</Info>
    <Disk ovf:capacity="{capacity}" ovf:capacityAllocationUnits="byte" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized" ovf:populatedSize="{populated}"/>
  </DiskSection>
  <NetworkSection>
    <Info>The list of logical networks</Info>
    <Network ovf:name="VM Network">
      <Description>The VM Network network</Description>
    </Network>
  </NetworkSection>
  <VirtualSystem ovf:id="{name}">
    <Info>A virtual machine</Info>
    <Name>{name}</Name>
    <OperatingSystemSection ovf:id="101" vmw:osType="otherLinux64Guest">
      <Info>The kind of installed guest operating system</Info>
    </OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware requirements</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>{name}</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>vmx-13</vssd:VirtualSystemType>
      </System>
      <Item>
        <rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>
        <rasd:Description>Number of Virtual CPUs</rasd:Description>
        <rasd:ElementName>{cpus} virtual CPU(s)</rasd:ElementName>
        <rasd:InstanceID>1</rasd:InstanceID>
        <rasd:ResourceType>3</rasd:ResourceType>
        <rasd:VirtualQuantity>{cpus}</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>
        <rasd:Description>Memory Size</rasd:Description>
        <rasd:ElementName>{mem}MB of memory</rasd:ElementName>
        <rasd:InstanceID>2</rasd:InstanceID>
        <rasd:ResourceType>4</rasd:ResourceType>
        <rasd:VirtualQuantity>{mem}</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:Address>0</rasd:Address>
        <rasd:Description>SCSI Controller</rasd:Description>
        <rasd:ElementName>SCSI Controller 0</rasd:ElementName>
        <rasd:InstanceID>3</rasd:InstanceID>
        <rasd:ResourceSubType>lsilogic</rasd:ResourceSubType>
        <rasd:ResourceType>6</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AddressOnParent>0</rasd:AddressOnParent>
        <rasd:ElementName>Hard Disk 1</rasd:ElementName>
        <rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource>
        <rasd:InstanceID>4</rasd:InstanceID>
        <rasd:Parent>3</rasd:Parent>
        <rasd:ResourceType>17</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AddressOnParent>7</rasd:AddressOnParent>
        <rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>
        <rasd:Connection>VM Network</rasd:Connection>
        <rasd:Description>VmxNet3 ethernet adapter on "VM Network"</rasd:Description>
        <rasd:ElementName>Network adapter 1</rasd:ElementName>
        <rasd:InstanceID>5</rasd:InstanceID>
        <rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType>
        <rasd:ResourceType>10</rasd:ResourceType>
      </Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
"#
    )
}

fn tar_header(path: &str, size: u64) -> Result<[u8; 512]> {
    let mut h = tar::Header::new_ustar();
    h.set_path(path)
        .map_err(|e| ConvertError::Usage(format!("OVA member name {path:?}: {e}")))?;
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    );
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    Ok(*h.as_bytes())
}

fn pad(n: u64) -> u64 {
    n.div_ceil(BLOCK) * BLOCK
}

/// Writes an OVA: the disk streams into the tar; descriptor and manifest fill the prefix.
pub struct OvaWriter {
    disk: StreamWriter,
    hw: Hardware,
    size: u64,
    prefix: u64,
    ovf_room: u64,
    data: u64,
}

impl OvaWriter {
    pub fn new(sink: Sink, size: u64, hw: Hardware, threads: usize) -> Result<OvaWriter> {
        let (ovf_name, mf_name, disk_name) = members(&hw.name);
        for n in [&ovf_name, &mf_name, &disk_name] {
            tar_header(n, 0)?;
        }
        // The descriptor's size is known up to its numbers: reserve for the widest ones.
        let widest = ovf(&hw, &disk_name, u64::MAX, u64::MAX, u64::MAX).len() as u64;
        let ovf_room = pad(widest);
        let zeros = "0".repeat(64);
        let mf_len = manifest(&[(&ovf_name, &zeros), (&disk_name, &zeros)]).len() as u64;
        let prefix = BLOCK + ovf_room + BLOCK + pad(mf_len) + BLOCK;
        let disk = StreamWriter::at(sink, prefix, size, &disk_name, threads)?;
        Ok(OvaWriter {
            disk,
            hw,
            size,
            prefix,
            ovf_room,
            data: 0,
        })
    }
}

impl ChunkWriter for OvaWriter {
    fn granularity(&self) -> usize {
        self.disk.granularity()
    }

    fn write(&mut self, chunk: &Chunk) -> Result<()> {
        self.data += chunk.nonzero.iter().filter(|&&nz| nz).count() as u64 * 4096;
        self.disk.write(chunk)
    }

    fn skip(&mut self, offset: u64, len: u64) -> Result<bool> {
        self.disk.skip(offset, len)
    }
}

impl DiskWriter for OvaWriter {
    fn finish(self: Box<Self>) -> Result<Finished> {
        let OvaWriter {
            disk,
            hw,
            size,
            prefix,
            ovf_room,
            data,
        } = *self;
        let (mut sink, disk_len, digest, warnings) = disk.finish_member()?;
        let (ovf_name, mf_name, disk_name) = members(&hw.name);
        // Tail: pad the disk member, then two zero blocks.
        let end = prefix + pad(disk_len);
        sink.write_at(end, &[0u8; 1024])?;
        // The descriptor, padded with spaces (after the root element) to its reserved room.
        let capacity = size.div_ceil(512) * 512;
        let mut text = ovf(&hw, &disk_name, disk_len, capacity, data.min(capacity)).into_bytes();
        text.resize(ovf_room as usize, b' ');
        let ovf_digest = hex(&Sha256::digest(&text));
        let mf = manifest(&[(&ovf_name, &ovf_digest), (&disk_name, &hex(&digest))]);
        let mut head = Vec::with_capacity(prefix as usize);
        head.extend_from_slice(&tar_header(&ovf_name, ovf_room)?);
        head.extend_from_slice(&text);
        head.extend_from_slice(&tar_header(&mf_name, mf.len() as u64)?);
        head.extend_from_slice(mf.as_bytes());
        head.resize((prefix - BLOCK) as usize, 0);
        head.extend_from_slice(&tar_header(&disk_name, disk_len)?);
        sink.write_at(0, &head)?;
        Ok(Finished { sink, warnings })
    }
}

/// One member of an OVA.
#[derive(Clone, Debug)]
pub struct Member {
    pub name: String,
    /// Where its data starts in the OVA.
    pub offset: u64,
    pub size: u64,
}

/// List an OVA's members, checking that the descriptor comes first and names are plain.
pub fn list(src: &Source) -> Result<Vec<Member>> {
    let mut members = Vec::new();
    let mut at = 0u64;
    let mut h = [0u8; 512];
    loop {
        if at + BLOCK > src.len() {
            return Err(corrupt(
                F,
                "tar header",
                at,
                "the archive ends without its end-of-archive blocks",
            ));
        }
        src.read_at(F, "tar header", at, &mut h)?;
        if h.iter().all(|&b| b == 0) {
            break;
        }
        let header = tar::Header::from_byte_slice(&h);
        let stored = header
            .cksum()
            .map_err(|e| corrupt(F, "tar header", at + 148, format!("checksum field: {e}")))?;
        let sum: u32 = h
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    b as u32
                }
            })
            .sum();
        if stored != sum {
            return Err(corrupt(
                F,
                "tar header",
                at + 148,
                format!("checksum {stored}, computed {sum}"),
            ));
        }
        let name = String::from_utf8_lossy(&header.path_bytes()).into_owned();
        let size = header
            .entry_size()
            .map_err(|e| corrupt(F, "tar header", at + 124, format!("size field: {e}")))?;
        let kind = header.entry_type();
        let data = at + BLOCK;
        if data.checked_add(size).is_none_or(|end| end > src.len()) {
            return Err(corrupt(
                F,
                "tar member",
                at,
                format!("{name:?} claims {size} bytes past the end of the file"),
            ));
        }
        if kind.is_file() {
            if name.contains('/') || name.contains('\\') || name == ".." || name.is_empty() {
                return Err(corrupt(
                    F,
                    "tar header",
                    at,
                    format!("member name {name:?} is not a plain file name"),
                ));
            }
            if members.iter().any(|m: &Member| m.name == name) {
                return Err(corrupt(
                    F,
                    "tar header",
                    at,
                    format!("member {name:?} appears twice; which one is the OVA's is unclear"),
                ));
            }
            members.push(Member {
                name,
                offset: data,
                size,
            });
        } else if !kind.is_pax_global_extensions() && !kind.is_pax_local_extensions() {
            return Err(unsupported(
                F,
                format!("tar member {name:?} of type {:?}", kind),
                "an OVA holds plain files",
            ));
        }
        at = data + pad(size);
        if members.len() > 1024 {
            return Err(corrupt(F, "tar header", at, "more than 1024 members"));
        }
    }
    match members.first() {
        Some(m) if m.name.to_ascii_lowercase().ends_with(".ovf") => Ok(members),
        Some(m) => Err(corrupt(
            F,
            "tar member",
            0,
            format!("the first member is {:?}, not the .ovf descriptor", m.name),
        )),
        None => Err(corrupt(F, "tar header", 0, "the archive is empty")),
    }
}

/// Whether a file starts like a tar whose first member is an OVF descriptor.
pub fn looks_like_ova(head: &[u8]) -> bool {
    head.len() >= 512 && &head[257..262] == b"ustar" && {
        let name = String::from_utf8_lossy(&head[..100]);
        name.trim_end_matches('\0')
            .to_ascii_lowercase()
            .ends_with(".ovf")
    }
}

/// The disk to read from an OVA: the first disk-image member, once the manifest (if any)
/// vouches for every member it names. (Checked once per file and process: `inspect` opens
/// the disk more than once.)
pub fn disk_member(src: &Source) -> Result<Source> {
    let members = list(src)?;
    verify_once(src, &members)?;
    let disk = members
        .iter()
        .find(|m| {
            let n = m.name.to_ascii_lowercase();
            [".vmdk", ".vhd", ".img", ".raw", ".qcow2"]
                .iter()
                .any(|e| n.ends_with(e))
        })
        .ok_or_else(|| corrupt(F, "tar member", 0, "no disk image member"))?;
    src.window(disk.offset, disk.size)
}

/// What `unpack` wrote.
#[derive(Clone, Debug)]
pub struct Unpacked {
    pub files: Vec<(PathBuf, u64, String)>,
    /// Members the manifest vouched for (by SHA-1, SHA-256 or SHA-512).
    pub verified: usize,
}

/// Extract every member into `dir` after checking each against the manifest. Files appear
/// only when all of them check out; an existing file is never overwritten. `progress` is
/// told the bytes copied and may return `false` to cancel: every temporary file goes.
pub fn unpack(
    path: &Path,
    dir: &Path,
    progress: &mut dyn FnMut(crate::pipeline::Progress) -> bool,
) -> Result<Unpacked> {
    let src = Source::open(path)?;
    let members = list(&src)?;
    let total: u64 = members.iter().map(|m| m.size).sum();
    let mut copied = 0u64;
    std::fs::create_dir_all(dir).map_err(io_err("create", dir))?;
    for m in &members {
        let dest = dir.join(&m.name);
        if dest.exists() {
            return Err(ConvertError::Usage(format!(
                "{} exists; drydock does not overwrite it",
                dest.display()
            )));
        }
    }
    let mut sums = std::collections::HashMap::new();
    let mut temps: Vec<(PathBuf, PathBuf)> = Vec::new();
    let cleanup = |temps: &[(PathBuf, PathBuf)]| {
        for (t, _) in temps {
            let _ = std::fs::remove_file(t);
        }
    };
    let mut files = Vec::new();
    for m in &members {
        let dest = dir.join(&m.name);
        let tmp = dir.join(format!(".{}.drydock-{}.tmp", m.name, std::process::id()));
        let result = (|| -> Result<Digests> {
            let mut out = std::fs::File::create(&tmp).map_err(io_err("create", &tmp))?;
            let d = read_member(&src, m, &mut |piece| {
                std::io::Write::write_all(&mut out, piece).map_err(io_err("write", &tmp))?;
                copied += piece.len() as u64;
                let p = crate::pipeline::Progress {
                    done: copied,
                    total,
                    data: copied,
                };
                if progress(p) {
                    Ok(())
                } else {
                    Err(ConvertError::Cancelled)
                }
            })?;
            out.sync_all().map_err(io_err("fsync", &tmp))?;
            Ok(d)
        })();
        temps.push((tmp.clone(), dest.clone()));
        match result {
            Ok(d) => {
                files.push((dest, m.size, d.sha256.clone()));
                sums.insert(m.name.clone(), d);
            }
            Err(e) => {
                cleanup(&temps);
                return Err(e);
            }
        }
    }
    // The manifest, if any, must vouch for every member it names.
    let verified = match manifest_checks(&src, &members).and_then(|checks| match checks {
        Some(c) => c.verify(&sums),
        None => Ok(0),
    }) {
        Ok(n) => n,
        Err(e) => {
            cleanup(&temps);
            return Err(e);
        }
    };
    for (tmp, dest) in &temps {
        std::fs::rename(tmp, dest).map_err(io_err("rename into place", dest))?;
    }
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(Unpacked { files, verified })
}
