#!/usr/bin/env python3
"""A fake OpenStack for drydock's tests: Keystone v3 (tokens with a service catalog),
Glance v2 (images, their data, deactivate/reactivate), Nova v2.1 (servers, createImage,
flavors) and the Cinder volumes Nova boots from, written from the shapes of the OpenStack
API reference. Python standard library only.

    fake_openstack.py PORT SEED.json     serve the seed (its shape: see DEMO below)
    fake_openstack.py PORT --demo        serve the demo site

Every service lives under one port: /identity/v3, /image/v2, /compute/v2.1 and
/volume/v3/{project}. Each request is logged on stderr as `METHOD PATH STATUS`.
Tokens come from password, token or application-credential auth; every other call needs
`X-Auth-Token`. Image data is kept in memory.
"""

import copy
import hashlib
import json
import re
import sys
import threading
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PROJECT = "b7d1bd5e4f4a4c5ba5b1c8e3a0d2f001"
OTHER = "a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0"

DEMO = {
    "region": "RegionOne",
    "project": {"id": PROJECT, "name": "fleet"},
    "users": [{"name": "drydock", "password": "secret", "id": "u-drydock"}],
    "application_credentials": [{"id": "ac-1", "secret": "ac-secret"}],
    "flavors": [
        {"id": "m1.small", "name": "m1.small", "vcpus": 1, "ram": 2048, "disk": 20},
        {"id": "m1.large", "name": "m1.large", "vcpus": 4, "ram": 8192, "disk": 80},
    ],
    "images": [
        {"id": "11111111-0000-4000-8000-000000000001", "name": "ubuntu-22.04-20260901",
         "visibility": "public", "owner": OTHER, "os_distro": "ubuntu", "os_version": "22.04",
         "created_at": "2026-09-01T00:00:00Z"},
        {"id": "11111111-0000-4000-8000-000000000002", "name": "web-base-2026.10.1",
         "owner": PROJECT, "drydock:family": "web-base", "drydock:version": "2026.10.1",
         "drydock:parent": "11111111-0000-4000-8000-000000000001",
         "created_at": "2026-10-01T00:00:00Z", "tags": ["golden"]},
        {"id": "11111111-0000-4000-8000-000000000003", "name": "web-base-2026.11.1",
         "owner": PROJECT, "drydock:family": "web-base", "drydock:version": "2026.11.1",
         "drydock:parent": "11111111-0000-4000-8000-000000000001",
         "created_at": "2026-11-01T00:00:00Z", "tags": ["golden"]},
        {"id": "11111111-0000-4000-8000-000000000004", "name": "web-base-2026.08.1",
         "owner": PROJECT, "drydock:family": "web-base", "drydock:version": "2026.08.1",
         "status": "deactivated", "created_at": "2026-08-01T00:00:00Z"},
        {"id": "11111111-0000-4000-8000-000000000005", "name": "web-base-2026.09.1",
         "owner": PROJECT, "drydock:family": "web-base", "drydock:version": "2026.09.1",
         "os_hidden": True, "created_at": "2026-09-01T00:00:00Z"},
        {"id": "11111111-0000-4000-8000-000000000006", "name": "egi-centos-9",
         "visibility": "shared", "owner": OTHER,
         "ad:mpuri": "https://appdb.egi.eu/store/vm/image/centos-9:1/",
         "dc:identifier": "centos-9-1", "created_at": "2026-07-01T00:00:00Z"},
    ],
    "volumes": [
        {"id": "22222222-0000-4000-8000-000000000001", "bootable": "true", "size": 20,
         "volume_image_metadata": {"image_id": "11111111-0000-4000-8000-000000000002",
                                   "image_name": "web-base-2026.10.1"}},
    ],
    "servers": [
        {"id": "33333333-0000-4000-8000-000000000001", "name": "web-1",
         "image": "11111111-0000-4000-8000-000000000003", "flavor": "m1.small",
         "metadata": {"app": "web"}, "tags": ["prod"], "key_name": "ops",
         "networks": {"private": ["10.0.0.11"]}, "security_groups": ["web"]},
        {"id": "33333333-0000-4000-8000-000000000002", "name": "web-2",
         "image": "11111111-0000-4000-8000-000000000004", "flavor": "m1.small",
         "metadata": {"app": "web"}, "networks": {"private": ["10.0.0.12"]},
         "security_groups": ["web"]},
        {"id": "33333333-0000-4000-8000-000000000003", "name": "web-3",
         "image": "", "boot_volume": "22222222-0000-4000-8000-000000000001",
         "flavor": "m1.large", "networks": {"private": ["10.0.0.13"]},
         "security_groups": ["web"]},
        {"id": "33333333-0000-4000-8000-000000000004", "name": "batch-1",
         "image": "11111111-0000-4000-8000-000000000001", "flavor": "m1.small",
         "user_data": "I2Nsb3VkLWNvbmZpZwo=", "networks": {"private": ["10.0.0.14"]},
         "security_groups": ["default"]},
        {"id": "33333333-0000-4000-8000-000000000005", "name": "grid-1",
         "image": "11111111-0000-4000-8000-000000000006", "flavor": "m1.small",
         "networks": {"private": ["10.0.0.15"]}, "security_groups": ["default"]},
    ],
}

# Image keys Glance itself owns; every other top-level key is a custom property.
CORE = {"id", "name", "status", "visibility", "owner", "protected", "os_hidden", "tags",
        "created_at", "updated_at", "disk_format", "container_format", "size",
        "virtual_size", "checksum", "os_hash_algo", "os_hash_value", "min_disk", "min_ram",
        "file", "self", "schema", "direct_url", "locations"}


def now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Site:
    """Everything the fake holds, behind one lock."""

    def __init__(self, seed, base):
        self.lock = threading.Lock()
        self.base = base
        self.region = seed.get("region", "RegionOne")
        self.disk_formats = seed.get("disk_formats", ["raw", "qcow2", "vmdk", "vhd", "iso"])
        # A store that fails every upload once the data is in (Glance answers 5xx and the
        # image goes back to queued).
        self.failing_store = seed.get("failing_store", False)
        # A Glance that records no virtual_size (before Pike), and serves Range requests.
        self.no_virtual_size = seed.get("no_virtual_size", False)
        self.project = seed["project"]
        self.users = {u["name"]: u for u in seed.get("users", [])}
        self.app_creds = {c["id"]: c for c in seed.get("application_credentials", [])}
        self.tokens = {}
        self.flavors = {f["id"]: f for f in seed.get("flavors", [])}
        self.volumes = {v["id"]: v for v in seed.get("volumes", [])}
        self.images = {}
        self.data = {}
        for i in seed.get("images", []):
            self.add_image(copy.deepcopy(i))
        self.servers = {}
        for s in seed.get("servers", []):
            self.add_server(copy.deepcopy(s))

    def add_image(self, i):
        i.setdefault("status", "active")
        i.setdefault("visibility", "private")
        i.setdefault("owner", self.project["id"])
        i.setdefault("os_hidden", False)
        i.setdefault("protected", False)
        i.setdefault("tags", [])
        i.setdefault("created_at", now())
        i.setdefault("updated_at", i["created_at"])
        i.setdefault("disk_format", "qcow2")
        i.setdefault("container_format", "bare")
        i.setdefault("min_disk", 0)
        i.setdefault("min_ram", 0)
        if i["status"] in ("active", "deactivated") and i["id"] not in self.data:
            self.store(i, ("content of " + i["name"]).encode())
        i["self"] = "/v2/images/" + i["id"]
        i["file"] = "/v2/images/" + i["id"] + "/file"
        i["schema"] = "/v2/schemas/image"
        self.images[i["id"]] = i
        return i

    def store(self, i, body, md5=None, sha512=None):
        self.data[i["id"]] = body
        md5 = md5 or hashlib.md5(body)
        sha512 = sha512 or hashlib.sha512(body)
        i["size"] = len(body)
        # Glance reads a qcow2's virtual size from its header; a raw image's is its size.
        if i.get("disk_format") == "qcow2" and body[:4] == b"QFI\xfb" and len(body) >= 32:
            i["virtual_size"] = int.from_bytes(body[24:32], "big")
        else:
            i["virtual_size"] = len(body)
        if self.no_virtual_size:
            i["virtual_size"] = None
        i["checksum"] = md5.hexdigest()
        i["os_hash_algo"] = "sha512"
        i["os_hash_value"] = sha512.hexdigest()

    def add_server(self, s):
        s.setdefault("status", "ACTIVE")
        s.setdefault("metadata", {})
        s.setdefault("tags", [])
        s.setdefault("created", now())
        s.setdefault("key_name", None)
        s.setdefault("networks", {})
        s.setdefault("security_groups", ["default"])
        s.setdefault("task_state", None)
        s.setdefault("power_state", 1)
        self.servers[s["id"]] = s
        return s

    def server_view(self, s):
        flavor = self.flavors.get(s["flavor"], {"id": s["flavor"], "name": s["flavor"]})
        image = ({"id": s["image"], "links": [{"rel": "bookmark",
                  "href": self.base + "/image/v2/images/" + s["image"]}]}
                 if s["image"] else "")
        volumes = ([{"id": s["boot_volume"], "delete_on_termination": False}]
                   if s.get("boot_volume") else [])
        return {
            "id": s["id"],
            "name": s["name"],
            "status": s["status"],
            "tenant_id": self.project["id"],
            "user_id": "u-drydock",
            "metadata": s["metadata"],
            "tags": s["tags"],
            "image": image,
            "flavor": {"original_name": flavor["name"], "vcpus": flavor.get("vcpus", 1),
                       "ram": flavor.get("ram", 1024), "disk": flavor.get("disk", 10),
                       "ephemeral": 0, "swap": 0, "extra_specs": {}},
            "created": s["created"],
            "updated": s["created"],
            "key_name": s["key_name"],
            "addresses": {net: [{"addr": a, "version": 4, "OS-EXT-IPS:type": "fixed"}
                                for a in addrs] for net, addrs in s["networks"].items()},
            "security_groups": [{"name": g} for g in s["security_groups"]],
            "os-extended-volumes:volumes_attached": volumes,
            "OS-EXT-STS:vm_state": s["status"].lower(),
            "OS-EXT-STS:task_state": s["task_state"],
            "OS-EXT-STS:power_state": s["power_state"],
            "OS-EXT-AZ:availability_zone": s.get("availability_zone") or "nova",
            "OS-EXT-SRV-ATTR:user_data": s.get("user_data"),
            "links": [{"rel": "self", "href": self.base + "/compute/v2.1/servers/" + s["id"]}],
        }

    def catalog(self):
        def service(kind, name, path):
            return {"type": kind, "name": name, "id": name + "-id", "endpoints": [
                {"id": name + "-" + iface, "interface": iface, "region": self.region,
                 "region_id": self.region, "url": self.base + path}
                for iface in ("public", "internal")]}
        return [
            service("identity", "keystone", "/identity"),
            service("image", "glance", "/image"),
            service("compute", "nova", "/compute/v2.1"),
            service("volumev3", "cinderv3", "/volume/v3/" + self.project["id"]),
        ]


def page(items, query, base_path):
    """Marker paging: `limit` items after `marker`; a next link while more remain."""
    limit = int(query.get("limit", ["25"])[0])
    marker = query.get("marker", [None])[0]
    ids = [i["id"] for i in items]
    start = ids.index(marker) + 1 if marker in ids else 0
    chunk = items[start:start + limit]
    more = start + limit < len(items)
    nxt = "%s?limit=%d&marker=%s" % (base_path, limit, chunk[-1]["id"]) if more and chunk else None
    return chunk, nxt


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body are separate writes: without this, Nagle's algorithm and the
    # client's delayed ACK hold every answer back ~40 ms.
    disable_nagle_algorithm = True
    site = None

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, body=None, headers=None, raw=None, ctype="application/json"):
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if data or status not in (204, 304):
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        sys.stderr.write("%s %s %d\n" % (self.command, self.path, status))
        sys.stderr.flush()

    def error(self, status, message):
        self.answer(status, {"error": {"code": status, "message": message}})

    def body(self, each=None):
        """The request body (Content-Length or chunked); `each` sees every piece as it
        arrives (Glance hashes image data while it streams it to the store)."""
        parts = []

        def take(n):
            while n > 0:
                part = self.rfile.read(min(n, 8 << 20))
                if not part:
                    raise ConnectionResetError("the body ended early")
                if each:
                    each(part)
                parts.append(part)
                n -= len(part)

        n = int(self.headers.get("Content-Length") or 0)
        if n:
            take(n)
        elif self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                take(size)
                self.rfile.readline()
        return b"".join(parts)

    def json_body(self):
        try:
            return json.loads(self.body() or b"{}")
        except ValueError:
            return None

    def authorised(self):
        token = self.headers.get("X-Auth-Token")
        with self.site.lock:
            ok = token in self.site.tokens
        if not ok:
            self.error(401, "The request you have made requires authentication.")
        return ok

    def route(self):
        url = urlparse(self.path)
        parts = [p for p in url.path.split("/") if p]
        query = parse_qs(url.query)
        if parts[:3] == ["identity", "v3", "auth"] and parts[3:] == ["tokens"]:
            return self.tokens_()
        if parts[:1] == ["identity"] and len(parts) <= 2 and self.command == "GET":
            return self.answer(200, {"version": {"id": "v3.14", "status": "stable",
                                                 "links": [{"rel": "self",
                                                            "href": self.site.base + "/identity/v3/"}]}})
        if not self.authorised():
            return None
        if parts[:2] == ["image", "v2"]:
            return self.glance(parts[2:], query)
        if parts[:2] == ["compute", "v2.1"]:
            return self.nova(parts[2:], query)
        if parts[:2] == ["volume", "v3"] and len(parts) == 5 and parts[3] == "volumes":
            with self.site.lock:
                v = self.site.volumes.get(parts[4])
            return self.answer(200, {"volume": v}) if v else self.error(404, "no volume")
        return self.error(404, "no such resource")

    def tokens_(self):
        if self.command != "POST":
            return self.error(405, "POST only")
        req = self.json_body() or {}
        ident = req.get("auth", {}).get("identity", {})
        methods = ident.get("methods", [])
        site = self.site
        user = None
        with site.lock:
            if "password" in methods:
                u = ident.get("password", {}).get("user", {})
                known = site.users.get(u.get("name"))
                if known and known["password"] == u.get("password"):
                    user = known
            elif "token" in methods:
                if ident.get("token", {}).get("id") in site.tokens:
                    user = next(iter(site.users.values()), None)
            elif "application_credential" in methods:
                c = ident.get("application_credential", {})
                known = site.app_creds.get(c.get("id"))
                if known and known["secret"] == c.get("secret"):
                    user = next(iter(site.users.values()), None)
            if user is None:
                return self.error(401, "The request you have made requires authentication.")
            token = uuid.uuid4().hex
            site.tokens[token] = user["name"]
        expires = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime(
            "%Y-%m-%dT%H:%M:%S.000000Z")
        return self.answer(201, {"token": {
            "methods": methods,
            "expires_at": expires,
            "issued_at": now(),
            "user": {"id": user["id"], "name": user["name"],
                     "domain": {"id": "default", "name": "Default"}},
            "project": {"id": site.project["id"], "name": site.project["name"],
                        "domain": {"id": "default", "name": "Default"}},
            "roles": [{"id": "r-member", "name": "member"}],
            "catalog": site.catalog(),
        }}, headers={"X-Subject-Token": token})

    def glance(self, parts, query):
        site = self.site
        cmd = self.command
        if parts == ["images"] and cmd == "GET":
            with site.lock:
                items = sorted(site.images.values(), key=lambda i: i["id"])
            hidden = query.get("os_hidden", ["false"])[0] == "true"
            items = [i for i in items if i["os_hidden"] == hidden]
            if "visibility" in query:
                items = [i for i in items if i["visibility"] == query["visibility"][0]]
            # Any other key filters on a property of that name (custom ones included).
            for key, values in query.items():
                if key not in ("limit", "marker", "os_hidden", "visibility", "sort_key", "sort_dir"):
                    items = [i for i in items if str(i.get(key)) == values[0]]
            chunk, nxt = page(items, query, "/v2/images")
            body = {"images": chunk, "first": "/v2/images", "schema": "/v2/schemas/images"}
            if nxt:
                body["next"] = nxt
            return self.answer(200, body)
        if parts == ["schemas", "image"] and cmd == "GET":
            return self.answer(200, {"name": "image", "properties": {
                "disk_format": {"type": ["null", "string"],
                                "enum": [None] + site.disk_formats},
                "container_format": {"type": ["null", "string"],
                                     "enum": [None, "bare", "ovf", "ova"]},
                "os_hash_algo": {"type": ["null", "string"], "readOnly": True},
                "os_hash_value": {"type": ["null", "string"], "readOnly": True}}})
        if parts == ["images"] and cmd == "POST":
            req = self.json_body()
            if req is None:
                return self.error(400, "body is not JSON")
            if req.get("disk_format") not in (None, *site.disk_formats):
                return self.error(400, "Invalid disk format '%s' for image." % req.get("disk_format"))
            req.setdefault("id", str(uuid.uuid4()))
            req["status"] = "queued"
            with site.lock:
                if req["id"] in site.images:
                    return self.error(409, "image id exists")
                img = site.add_image(req)
            return self.answer(201, img, headers={"Location": site.base + "/image/v2/images/" + img["id"]})
        if len(parts) < 2 or parts[0] != "images":
            return self.error(404, "no such resource")
        with site.lock:
            img = site.images.get(parts[1])
        if img is None:
            return self.error(404, "No image found with ID " + parts[1])
        rest = parts[2:]
        if rest == [] and cmd == "GET":
            return self.answer(200, img)
        if rest == [] and cmd == "DELETE":
            if img.get("protected"):
                return self.error(403, "image is protected")
            with site.lock:
                site.images.pop(img["id"], None)
                site.data.pop(img["id"], None)
            return self.answer(204)
        if rest == [] and cmd == "PATCH":
            if not self.headers.get("Content-Type", "").startswith(
                    "application/openstack-images-v2.1-json-patch"):
                return self.error(415, "PATCH needs application/openstack-images-v2.1-json-patch")
            ops = self.json_body()
            if not isinstance(ops, list):
                return self.error(400, "a JSON patch is a list")
            with site.lock:
                for op in ops:
                    key = op.get("path", "/").lstrip("/")
                    if key in ("id", "status", "owner", "checksum", "os_hash_value", "size"):
                        return self.error(403, "attribute %s is read-only" % key)
                    if op.get("op") in ("add", "replace"):
                        img[key] = op.get("value")
                    elif op.get("op") == "remove":
                        if key not in img:
                            return self.error(409, "no property " + key)
                        del img[key]
                img["updated_at"] = now()
            return self.answer(200, img)
        if rest == ["file"] and cmd == "PUT":
            if img["status"] != "queued":
                return self.error(409, "image is %s, not queued" % img["status"])
            with site.lock:
                img["status"] = "saving"
            sys.stderr.write("BEGIN PUT %s\n" % self.path)
            sys.stderr.flush()
            md5, sha512 = hashlib.md5(), hashlib.sha512()

            def digest(part):
                md5.update(part)
                sha512.update(part)

            try:
                data = self.body(digest)
            except (OSError, ValueError):
                # The client went away mid-upload: the image stays without data.
                with site.lock:
                    img["status"] = "queued"
                sys.stderr.write("ABORTED PUT %s\n" % self.path)
                sys.stderr.flush()
                self.close_connection = True
                return None
            if site.failing_store:
                with site.lock:
                    img["status"] = "queued"
                return self.error(503, "Error in store configuration. Adding images to store is disabled.")
            with site.lock:
                site.store(img, data, md5, sha512)
                img["status"] = "active"
            return self.answer(204)
        if rest == ["file"] and cmd == "GET":
            with site.lock:
                data = site.data.get(img["id"])
            if data is None:
                return self.answer(204)
            if img["status"] == "deactivated":
                return self.error(403, "image is deactivated")
            rng = re.match(r"bytes=(\d+)-(\d+)$", self.headers.get("Range", ""))
            if rng:
                a, b = int(rng.group(1)), int(rng.group(2))
                part = data[a:b + 1]
                return self.answer(206, raw=part, ctype="application/octet-stream", headers={
                    "Content-Range": "bytes %d-%d/%d" % (a, a + len(part) - 1, len(data))})
            return self.answer(200, raw=data, ctype="application/octet-stream",
                               headers={"Content-MD5": img["checksum"]})
        if rest[:1] == ["actions"] and cmd == "POST" and rest[1:] in (["deactivate"], ["reactivate"]):
            with site.lock:
                if img["status"] not in ("active", "deactivated"):
                    return self.error(400, "image is " + img["status"])
                img["status"] = "deactivated" if rest[1] == "deactivate" else "active"
            return self.answer(204)
        if rest[:1] == ["tags"] and len(rest) == 2 and cmd in ("PUT", "DELETE"):
            with site.lock:
                if cmd == "PUT" and rest[1] not in img["tags"]:
                    img["tags"].append(rest[1])
                elif cmd == "DELETE":
                    if rest[1] not in img["tags"]:
                        return self.error(404, "no tag " + rest[1])
                    img["tags"].remove(rest[1])
            return self.answer(204)
        return self.error(404, "no such resource")

    def nova(self, parts, query):
        site = self.site
        cmd = self.command
        if parts == ["servers", "detail"] and cmd == "GET":
            with site.lock:
                items = [site.server_view(s) for s in
                         sorted(site.servers.values(), key=lambda s: s["id"])]
            if "name" in query:
                # Nova's name filter is a regular expression.
                pattern = re.compile(query["name"][0])
                items = [s for s in items if pattern.search(s["name"])]
            chunk, nxt = page(items, query, site.base + "/compute/v2.1/servers/detail")
            body = {"servers": chunk}
            if nxt:
                body["servers_links"] = [{"rel": "next", "href": nxt}]
            return self.answer(200, body)
        if parts == ["servers"] and cmd == "POST":
            req = (self.json_body() or {}).get("server")
            if not req or "name" not in req or "flavorRef" not in req:
                return self.error(400, "server needs name and flavorRef")
            with site.lock:
                if req.get("imageRef") and req["imageRef"] not in site.images:
                    return self.error(400, "Can not find requested image")
                if req["flavorRef"] not in site.flavors:
                    return self.error(400, "Flavor %s could not be found." % req["flavorRef"])
                boot_volume = None
                for bdm in req.get("block_device_mapping_v2", []):
                    if bdm.get("boot_index") == 0 and bdm.get("source_type") == "image":
                        if bdm.get("uuid") not in site.images:
                            return self.error(400, "Can not find requested image")
                        boot_volume = str(uuid.uuid4())
                        site.volumes[boot_volume] = {
                            "id": boot_volume, "bootable": "true", "size": bdm.get("volume_size", 1),
                            "volume_image_metadata": {"image_id": bdm["uuid"],
                                                      "image_name": site.images[bdm["uuid"]]["name"]}}
                if not req.get("imageRef") and boot_volume is None:
                    return self.error(400, "a server needs imageRef or a boot volume")
                s = site.add_server({
                    "id": str(uuid.uuid4()), "name": req["name"], "boot_volume": boot_volume,
                    "tags": req.get("tags", []), "availability_zone": req.get("availability_zone"),
                    "image": req.get("imageRef", ""), "flavor": req["flavorRef"],
                    "metadata": req.get("metadata", {}), "key_name": req.get("key_name"),
                    "user_data": req.get("user_data"),
                    "networks": {(n.get("uuid", "net-private")[4:] or "private"):
                                 ["10.0.1.%d" % (len(site.servers) + 10)]
                                 for n in (req.get("networks") if isinstance(req.get("networks"), list)
                                           else [])},
                    "security_groups": [g["name"] for g in req.get("security_groups", [])] or ["default"],
                })
            return self.answer(202, {"server": {"id": s["id"], "adminPass": "x",
                                                "links": [{"rel": "self", "href": site.base + "/compute/v2.1/servers/" + s["id"]}],
                                                "security_groups": [{"name": g} for g in s["security_groups"]]}},
                               headers={"Location": site.base + "/compute/v2.1/servers/" + s["id"]})
        if parts == ["flavors", "detail"] and cmd == "GET":
            return self.answer(200, {"flavors": list(site.flavors.values())})
        if parts[:1] == ["flavors"] and len(parts) == 2 and cmd == "GET":
            f = site.flavors.get(parts[1])
            return self.answer(200, {"flavor": f}) if f else self.error(404, "no flavor")
        if parts[:1] != ["servers"] or len(parts) < 2:
            return self.error(404, "no such resource")
        with site.lock:
            s = site.servers.get(parts[1])
        if s is None:
            return self.error(404, "Instance %s could not be found." % parts[1])
        rest = parts[2:]
        if rest == [] and cmd == "GET":
            with site.lock:
                return self.answer(200, {"server": site.server_view(s)})
        if rest == [] and cmd == "DELETE":
            with site.lock:
                site.servers.pop(s["id"], None)
            return self.answer(204)
        if rest == ["os-interface"] and cmd == "GET":
            return self.answer(200, {"interfaceAttachments": [
                {"net_id": "net-" + net, "port_id": "port-%s-%s" % (s["id"][:8], net),
                 "port_state": "ACTIVE", "fixed_ips": [{"ip_address": a} for a in addrs]}
                for net, addrs in s["networks"].items()]})
        if rest[:1] == ["tags"] and len(rest) == 2 and cmd in ("PUT", "DELETE"):
            with site.lock:
                if cmd == "PUT" and rest[1] not in s["tags"]:
                    s["tags"].append(rest[1])
                elif cmd == "DELETE":
                    if rest[1] not in s["tags"]:
                        return self.error(404, "no tag " + rest[1])
                    s["tags"].remove(rest[1])
            return self.answer(204 if cmd == "DELETE" else 201)
        if rest == ["os-server-user-data"] or (rest == ["action"] and cmd == "POST"):
            req = self.json_body() or {}
            if "createImage" in req:
                spec = req["createImage"]
                with site.lock:
                    img = site.add_image(dict(spec.get("metadata", {}), **{
                        "id": str(uuid.uuid4()), "name": spec.get("name", s["name"] + "-image"),
                        "status": "active", "owner": site.project["id"],
                        "instance_uuid": s["id"], "base_image_ref": s["image"]}))
                    if s.get("boot_volume"):
                        # A server booted from a volume is captured as a snapshot of it.
                        img["block_device_mapping"] = json.dumps([{"source_type": "snapshot"}])
                    site.store(img, ("captured from " + s["name"]).encode())
                return self.answer(202, {"image_id": img["id"]},
                                   headers={"Location": site.base + "/image/v2/images/" + img["id"]})
            if "os-stop" in req or "os-start" in req:
                with site.lock:
                    s["status"] = "SHUTOFF" if "os-stop" in req else "ACTIVE"
                    s["power_state"] = 4 if "os-stop" in req else 1
                return self.answer(202)
            return self.error(400, "unknown action")
        if rest == ["metadata"] and cmd in ("POST", "PUT"):
            req = self.json_body() or {}
            with site.lock:
                if cmd == "PUT":
                    s["metadata"] = {}
                s["metadata"].update(req.get("metadata", {}))
                return self.answer(200, {"metadata": s["metadata"]})
        return self.error(404, "no such resource")

    def handle_any(self):
        try:
            self.route()
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any


def main():
    port = int(sys.argv[1])
    seed = DEMO if sys.argv[2] == "--demo" else json.load(open(sys.argv[2]))
    Handler.site = Site(seed, "http://127.0.0.1:%d" % port)
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
