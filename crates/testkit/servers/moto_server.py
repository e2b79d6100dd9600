"""moto's server for drydock's tests, with the EC2 calls drydock needs that moto lacks.

moto answers HTTP 500 for EnableImageDeprecation and DisableImageDeprecation. This module
registers both on moto's EC2 responses and keeps DeprecationTime on the image model, so
DescribeImages reports it like AWS does. It also has RegisterImage use the root block device
mapping's snapshot and the given architecture, boot mode and ENA (moto ignores them), and
reports EBS snapshots' BlockSize in bytes as AWS does. Usage: server.py PORT
"""

import datetime
import sys

from moto.core.responses import ActionResult
from moto.ebs.models import EBSSnapshot
from moto.ec2.responses.amis import AmisResponse
from moto.server import main


def _image(response, image_id):
    return response.ec2_backend.describe_images(ami_ids=[image_id])[0]


def _aws_time(value):
    """AWS writes image times as 2026-01-01T00:00:00.000Z."""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def enable_image_deprecation(self):
    image_id = self._get_param("ImageId")
    deprecate_at = self._get_param("DeprecateAt")
    self.error_on_dryrun()
    _image(self, image_id).deprecation_time = _aws_time(deprecate_at)
    return ActionResult({"Return": True})


def disable_image_deprecation(self):
    image_id = self._get_param("ImageId")
    self.error_on_dryrun()
    _image(self, image_id).deprecation_time = None
    return ActionResult({"Return": True})


def register_image(self):
    """moto registers an AMI on a fresh 15 GiB snapshot whatever the request says; AWS uses
    the root BlockDeviceMapping's snapshot and the given architecture, boot mode, ENA and
    root device, which transfers need to read the image back."""
    self.error_on_dryrun()
    image = self.ec2_backend.register_image(
        self._get_param("Name"), self._get_param("Description", "")
    )
    root = self._get_param("RootDeviceName")
    for mapping in self._get_param("BlockDeviceMappings", []):
        snapshot_id = (mapping.get("Ebs") or {}).get("SnapshotId")
        if snapshot_id and (root is None or mapping.get("DeviceName") == root):
            image.ebs_snapshot = self.ec2_backend.get_snapshot(snapshot_id)
            root = root or mapping.get("DeviceName")
    if root:
        image.root_device_name = root
    image.root_device_type = "ebs"
    for param, attr in [
        ("Architecture", "architecture"),
        ("BootMode", "boot_mode"),
        ("EnaSupport", "ena_support"),
        ("VirtualizationType", "virtualization_type"),
    ]:
        value = self._get_param(param)
        if value is not None:
            setattr(image, attr, value)
    return ActionResult({"ImageId": image.id})


AmisResponse.register_image = register_image

# moto reports EBS snapshots' BlockSize as 512; AWS reports bytes, 524288 (512 KiB). Clients
# that size their blocks from it (coldsnap) would otherwise write 512-byte blocks.
_ebs_snapshot_init = EBSSnapshot.__init__


def _ebs_snapshot_with_aws_block_size(self, *args, **kwargs):
    _ebs_snapshot_init(self, *args, **kwargs)
    self.block_size = 512 * 1024


EBSSnapshot.__init__ = _ebs_snapshot_with_aws_block_size
AmisResponse.enable_image_deprecation = enable_image_deprecation
AmisResponse.disable_image_deprecation = disable_image_deprecation

if __name__ == "__main__":
    port = sys.argv[1] if len(sys.argv) > 1 else "5000"
    main(["-H", "127.0.0.1", "-p", port])
