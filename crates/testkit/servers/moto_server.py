"""moto's server for drydock's tests, with the EC2 calls drydock needs that moto lacks.

moto answers HTTP 500 for EnableImageDeprecation and DisableImageDeprecation. This module
registers both on moto's EC2 responses and keeps DeprecationTime on the image model, so
DescribeImages reports it like AWS does. It also has RegisterImage use the root block device
mapping's snapshot and the given architecture, boot mode and ENA (moto ignores them), and
reports EBS snapshots' BlockSize in bytes as AWS does. Usage: server.py PORT

With DRYDOCK_MOTO_LATENCY_MS and DRYDOCK_MOTO_FAULT_RATE set, every request waits that long
and that share of EC2 mutations fail with 503 RequestLimitExceeded: half before moto acts,
half after (the change is made, the answer is lost), as a real API under load does. The
faults are seeded (DRYDOCK_MOTO_FAULT_SEED) so a run can be repeated.

moto does not enforce IAM. With DRYDOCK_MOTO_DENY_ROLES naming a file of lines (parts of
role ARNs, read at each call), STS AssumeRole of a matching role by the session `drydock`
is refused with 403 AccessDenied, as AWS refuses a role that does not exist or does not trust the caller.
With DRYDOCK_MOTO_CALLS set to a file, every API call is logged there as `CALL Action`
(Query `Action=` or JSON `X-Amz-Target`), so a test can count Organizations calls.
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

MUTATIONS = {
    "RunInstances", "TerminateInstances", "CreateTags", "DeleteTags", "CreateImage",
    "DeregisterImage", "EnableImageDeprecation", "DisableImageDeprecation", "DisableImage",
}

DENIED = (
    b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
    b"<Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/test is not "
    b"authorized to perform: sts:AssumeRole on resource: %s</Message></Error>"
    b"<RequestId>denied</RequestId></ErrorResponse>"
)

THROTTLED = (
    b'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error>'
    b"<Code>RequestLimitExceeded</Code><Message>Request limit exceeded (injected).</Message>"
    b"</Error></Errors><RequestID>injected</RequestID></Response>"
)


class Slow:
    """WSGI middleware: latency on every request, faults on some EC2 mutations; each
    mutation moto carries out is logged to $DRYDOCK_MOTO_MUTATIONS as `MUTATION Action
    target` (the instance or image, or for RunInstances the VM its `drydock:replaces` tag
    names)."""

    def log(self, action, body):
        import os
        import urllib.parse

        path = os.environ.get("DRYDOCK_MOTO_MUTATIONS")
        if action not in MUTATIONS or not path:
            return
        q = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        target = (q.get("InstanceId.1") or q.get("ImageId") or q.get("ResourceId.1") or [""])[0]
        if action == "RunInstances":
            for k, v in q.items():
                if k.endswith(".Key") and v == ["drydock:replaces"]:
                    target = q.get(k[: -len("Key")] + "Value", [""])[0]
        with self.lock, open(path, "a", encoding="utf-8") as f:
            f.write(f"MUTATION {action} {target}\n")

    def __init__(self, app, latency, rate, seed):
        import os
        import random
        import threading

        self.app, self.latency, self.rate = app, latency, rate
        self.deny = os.environ.get("DRYDOCK_MOTO_DENY_ROLES")
        self.calls = os.environ.get("DRYDOCK_MOTO_CALLS")
        self.rng, self.lock = random.Random(seed), threading.Lock()
        # RunInstances answers by client token: AWS makes a retried launch idempotent,
        # moto does not, and a lost answer is retried here.
        self.launched = {}

    def __call__(self, environ, start_response):
        import io
        import time
        import urllib.parse

        time.sleep(self.latency)
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size) if size else b""
        environ["wsgi.input"] = io.BytesIO(body)
        query = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        action = query.get("Action", [""])[0]
        if self.calls:
            called = action or environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
            with self.lock, open(self.calls, "a", encoding="utf-8") as f:
                f.write(f"CALL {called}\n")
        if action == "AssumeRole" and query.get("RoleSessionName", [""])[0] == "drydock":
            role = query.get("RoleArn", [""])[0]
            try:
                with open(self.deny or "/nonexistent", encoding="utf-8") as f:
                    deny = [d.strip() for d in f if d.strip()]
            except OSError:
                deny = []
            if any(d in role for d in deny):
                start_response("403 Forbidden", [("Content-Type", "text/xml")])
                return [DENIED % role.encode()]
        fault = None
        if action in MUTATIONS:
            with self.lock:
                if self.rng.random() < self.rate:
                    fault = "before" if self.rng.random() < 0.5 else "after"
        token = None
        if action == "RunInstances":
            token = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("ClientToken", [None])[0]
            with self.lock:
                seen = self.launched.get(token) if token else None
            if seen is not None and fault != "before":
                status, headers, answer = seen
                start_response(status, headers)
                return [answer]
        if fault == "before":
            start_response("503 Service Unavailable", [("Content-Type", "text/xml")])
            return [THROTTLED]
        self.log(action, body)
        got = {}

        def keep(status, headers, exc_info=None):
            got["status"], got["headers"] = status, headers
            return lambda data: None

        answer = b"".join(self.app(environ, keep))
        if token and got.get("status", "").startswith("200"):
            with self.lock:
                self.launched[token] = (got["status"], got["headers"], answer)
        if fault == "after":
            start_response("503 Service Unavailable", [("Content-Type", "text/xml")])
            return [THROTTLED]
        start_response(got["status"], got["headers"])
        return [answer]


if __name__ == "__main__":
    import os

    port = sys.argv[1] if len(sys.argv) > 1 else "5000"
    latency = float(os.environ.get("DRYDOCK_MOTO_LATENCY_MS", "0")) / 1000.0
    rate = float(os.environ.get("DRYDOCK_MOTO_FAULT_RATE", "0"))
    plain = not (os.environ.get("DRYDOCK_MOTO_DENY_ROLES") or os.environ.get("DRYDOCK_MOTO_CALLS"))
    if latency == 0 and rate == 0 and plain:
        main(["-H", "127.0.0.1", "-p", port])
    else:
        from moto.server import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import run_simple

        app = DomainDispatcherApplication(create_backend_app)
        seed = int(os.environ.get("DRYDOCK_MOTO_FAULT_SEED", "7"))
        run_simple("127.0.0.1", int(port), Slow(app, latency, rate, seed), threaded=True)
