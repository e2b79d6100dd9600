"""A realistic AWS fleet for a local EC2 endpoint (moto), for drydock's tests and live demo.

    python demo/moto_fleet.py amis FILE   write vendor AMIs for MOTO_AMIS_PATH (dates relative to now)
    python demo/moto_fleet.py seed URL    seed the fleet through the EC2 API at URL

Every VM carries an `expect` tag: the drift verdict drydock must give it under the default
policy. Needs boto3 (installed with moto) and a moto started with crates/testkit/servers/moto_server.py
(which adds EnableImageDeprecation).
"""

import datetime
import json
import sys

NOW = datetime.datetime.now(datetime.timezone.utc)
REGIONS = ["eu-west-1", "us-east-1"]

# Vendor AMIs: (id, owner, name, days old)
VENDOR = [
    ("ami-0a100000000000001", "137112412989", "al2023-ami-2023.9.20260520-kernel-6.1-x86_64", 187),
    ("ami-0a100000000000002", "137112412989", "al2023-ami-2023.9.20260930-kernel-6.1-x86_64", 54),
    ("ami-0a100000000000003", "137112412989", "al2023-ami-2023.9.20261112-kernel-6.1-x86_64", 11),
    ("ami-0b100000000000001", "099720109477", "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20260505", 200),
    ("ami-0b100000000000002", "099720109477", "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20261104", 19),
    # No policy rule covers Debian; no VM runs the newest one (vendor freshness finds it).
    ("ami-0c100000000000001", "136693071363", "debian-12-amd64-20260801-1824", 114),
    ("ami-0c100000000000002", "136693071363", "debian-12-amd64-20261110-2000", 13),
]


def stamp(days_ago):
    t = NOW - datetime.timedelta(days=days_ago)
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def write_amis(path):
    amis = [
        {
            "ami_id": ami_id,
            "state": "available",
            "public": True,
            "owner_id": owner,
            "name": name,
            "description": name,
            "image_type": "machine",
            "architecture": "x86_64",
            "virtualization_type": "hvm",
            "root_device_type": "ebs",
            "root_device_name": "/dev/xvda",
            "creation_date": stamp(days),
        }
        for ami_id, owner, name, days in VENDOR
    ]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(amis, f, indent=1)


def seed(url):
    import boto3

    def client(region):
        return boto3.client(
            "ec2", endpoint_url=url, region_name=region,
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )

    ec2 = client("eu-west-1")

    def run(image, name, expect, count=1):
        ids = []
        for n in range(count):
            out = ec2.run_instances(
                ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                TagSpecifications=[{"ResourceType": "instance", "Tags": [
                    {"Key": "Name", "Value": f"{name}-{n + 1:03}"},
                    {"Key": "expect", "Value": expect},
                ]}],
            )
            ids.append(out["Instances"][0]["InstanceId"])
        return ids

    def bake(instance, name, **tags):
        spec = [{"ResourceType": "image", "Tags": [{"Key": k.replace("_", ":", 1), "Value": v} for k, v in tags.items()]}]
        kwargs = {"TagSpecifications": spec} if tags else {}
        return ec2.create_image(InstanceId=instance, Name=name, **kwargs)["ImageId"]

    al_old, al_mid, al_new, ub_old, ub_new, deb_old, _deb_new = (v[0] for v in VENDOR)
    run(al_new, "sandbox", "current", 2)
    run(al_mid, "legacy", "behind", 2)
    run(al_old, "ancient", "outdated", 2)
    builder = run(al_new, "builder", "current")[0]
    # Golden images with provenance: two versions of web-base.
    web0 = bake(builder, "web-base-2026.11.0", drydock_family="web-base", drydock_version="2026.11.0", drydock_parent=al_new)
    web1 = bake(builder, "web-base-2026.11.1", drydock_family="web-base", drydock_version="2026.11.1", drydock_parent=al_new)
    run(web0, "web-old", "behind", 2)
    run(web1, "web", "current", 3)
    # A base deprecated after a golden image was built on it: both revoked.
    ub_builder = run(ub_old, "ub-builder", "revoked")[0]
    tools = bake(ub_builder, "tools-1.0", drydock_family="tools", drydock_version="1.0", drydock_parent=ub_old)
    run(tools, "tools", "revoked", 2)
    ec2.enable_image_deprecation(ImageId=ub_old, DeprecateAt=NOW - datetime.timedelta(days=30))
    run(ub_new, "ub-new", "current")
    # A disabled golden image.
    batch = bake(builder, "batch-1.0", drydock_family="batch", drydock_version="1.0")
    run(batch, "batch", "revoked")
    ec2.disable_image(ImageId=batch)
    # An image declared end of life by tag.
    etl = bake(builder, "etl-1.0", drydock_family="etl", drydock_version="1.0", drydock_eol="2026-01-01")
    run(etl, "etl", "eol")
    # An image deregistered while VMs still run on it: cannot be resolved.
    gone = bake(builder, "gone-1.0", drydock_family="gone", drydock_version="1.0")
    run(gone, "orphan", "unknown", 2)
    ec2.deregister_image(ImageId=gone)
    # Baked by hand, no provenance, no policy rule.
    manual = bake(builder, "manual-build")
    run(manual, "manual", "unmanaged")
    run(deb_old, "debian", "unmanaged")
    # A second region.
    us = client("us-east-1")
    us.run_instances(
        ImageId=al_new, MinCount=1, MaxCount=1, InstanceType="t3.micro",
        TagSpecifications=[{"ResourceType": "instance", "Tags": [
            {"Key": "Name", "Value": "us-sandbox-001"}, {"Key": "expect", "Value": "current"}]}],
    )


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("amis", "seed"):
        sys.exit(__doc__)
    {"amis": write_amis, "seed": seed}[sys.argv[1]](sys.argv[2])
