//! What a transfer refuses before anything is created: a dry run creates nothing, read-only
//! contexts refuse, a size Azure cannot boot, an encrypted snapshot, a missing version.

use crate::env::{raw_disk, Env};

fn fails(env: &Env, args: &[&str]) -> String {
    let mut all = vec!["transfer"];
    all.extend_from_slice(args);
    let (code, out, err) = env.cmd(&all);
    assert_eq!(code, 2, "transfer {args:?} should fail:\n{out}\n{err}");
    err
}

#[test]
fn bad_inputs_are_refused_before_any_upload() {
    let env = Env::new();
    raw_disk(&env.path("d.raw"), 32 << 20, 4, 64);
    // A dry run says what it would create and creates nothing.
    let (code, out, err) = env.cmd(&[
        "transfer",
        "d.raw",
        "aws:lab/eu-west-1",
        "--family",
        "web",
        "--version",
        "1",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("dry run") && out.contains("register image web-1"),
        "{out}"
    );
    assert!(
        !env.moto.log_text().contains("POST /snapshots"),
        "a dry run started a snapshot"
    );
    // A read-only context refuses.
    let err = fails(
        &env,
        &[
            "d.raw",
            "aws:audit/eu-west-1",
            "--name",
            "x",
            "--execute",
            "--yes",
        ],
    );
    assert!(err.contains("read-only"), "{err}");
    // Azure boots only whole-MiB disks: refused before the disk is created.
    raw_disk(&env.path("odd.raw"), (32 << 20) + 4096, 4, 64);
    let err = fails(
        &env,
        &[
            "odd.raw",
            "azure:lab-az/westeurope/golden/web-base",
            "--version",
            "1",
            "--execute",
            "--yes",
        ],
    );
    assert!(
        err.contains("whole number of MiB") && err.contains("33 MiB"),
        "{err}"
    );
    assert!(
        !env.arm.log_text().contains("/disks/"),
        "a disk was created"
    );
    assert_eq!(env.azurite.put_pages(), 0);
    // A disk larger than the destination holds is refused before anything is created.
    let ok = std::process::Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2"])
        .arg(env.path("huge.qcow2"))
        .arg("70T")
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let err = fails(
        &env,
        &[
            "huge.qcow2",
            "aws:lab/eu-west-1",
            "--name",
            "huge",
            "--execute",
            "--yes",
        ],
    );
    assert!(err.contains("at most 65536 GiB"), "{err}");
    let err = fails(
        &env,
        &[
            "huge.qcow2",
            "azure:lab-az/westeurope/golden/web-base",
            "--version",
            "2",
            "--execute",
            "--yes",
        ],
    );
    assert!(err.contains("at most 32 TiB"), "{err}");
    assert!(
        !env.moto.log_text().contains("POST /snapshots"),
        "a snapshot was started"
    );
    // A gallery version needs a version.
    let err = fails(
        &env,
        &[
            "d.raw",
            "azure:lab-az/westeurope/golden/web-base",
            "--execute",
            "--yes",
        ],
    );
    assert!(err.contains("--version"), "{err}");
    // An existing version is not overwritten.
    env.transfer(&[
        "d.raw",
        "azure:lab-az/westeurope/golden/web-base",
        "--version",
        "1",
        "--execute",
        "--yes",
    ]);
    let err = fails(
        &env,
        &[
            "d.raw",
            "azure:lab-az/westeurope/golden/web-base",
            "--version",
            "1",
            "--execute",
            "--yes",
        ],
    );
    assert!(err.contains("already has version 1"), "{err}");
    // An unknown context names the known ones.
    let err = fails(&env, &["d.raw", "aws:nope/eu-west-1", "--name", "x"]);
    assert!(err.contains("lab"), "{err}");
    // Without --yes and without a terminal, nothing is created.
    let err = fails(
        &env,
        &["d.raw", "aws:lab/eu-west-1", "--name", "y", "--execute"],
    );
    assert!(err.contains("--yes"), "{err}");
}

#[test]
fn an_encrypted_snapshot_is_refused_before_any_read() {
    let env = Env::new();
    // An AMI on an encrypted snapshot, made through EC2 with boto3 (moto's venv has it).
    let script = format!(
        "import boto3\n\
         ec2 = boto3.client('ec2', region_name='eu-west-1', endpoint_url='{}', aws_access_key_id='testing', aws_secret_access_key='testing')\n\
         v = ec2.create_volume(Size=8, AvailabilityZone='eu-west-1a', Encrypted=True)\n\
         s = ec2.create_snapshot(VolumeId=v['VolumeId'])\n\
         i = ec2.register_image(Name='secret', RootDeviceName='/dev/xvda', BlockDeviceMappings=[{{'DeviceName': '/dev/xvda', 'Ebs': {{'SnapshotId': s['SnapshotId']}}}}])\n\
         print(i['ImageId'])\n",
        env.moto.url
    );
    let out = std::process::Command::new(crate::moto::python())
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ami = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let err = fails(&env, &[&format!("aws:lab/eu-west-1/{ami}"), "out.raw"]);
    assert!(err.contains("encrypted"), "{err}");
    assert!(!env.path("out.raw").exists());
    assert!(!env.moto.log_text().contains("/blocks"), "blocks were read");
}
