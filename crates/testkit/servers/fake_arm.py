"""A fake Azure Resource Manager for drydock's tests: serves Microsoft.Compute resources
seeded from a JSON file, in the response shapes of the REST API specification examples
(../shared/fixtures/azure-arm/): GET of one resource or of a collection ({"value": [...]}),
paged with absolute nextLink URLs built from the request's Host header, and
{"error": {"code", "message"}} bodies for what it cannot serve.

Usage: fake_arm.py PORT SEED.json | fake_arm.py PORT --demo (a realistic fleet, see demo_seed)

The seed: {"page_size": N, "fail": {"/path": status}, "resources": [ARM resource objects with
"id", "name", "type", "location", "properties", "tags"], "subscriptions": [the tenant's
subscriptions as Subscriptions_List returns them: "subscriptionId", "displayName", "state",
"tags"], "rg_page_size": rows per Resource Graph page (default 1000), "rg_refuse": [subscription
ids Resource Graph answers 403 for], "rg_quota": queries allowed per second (0: no limit)}.

Resource Graph (POST /providers/Microsoft.ResourceGraph/resources): the VMs (or, for a query
naming them, the scale-set VMs) of the requested subscriptions in id order, paged by $top/$skipToken, with x-ms-user-quota-remaining and
x-ms-user-quota-resets-after on every answer (429 once the second's quota is spent), and
403 AuthorizationFailed naming the refused subscriptions in its details. Python standard
library only.
"""

import json
import sys

import fake_disks
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

# Collections the fake knows; any other path that names no resource is a 404.
COLLECTIONS = {
    "virtualmachines",
    "images",
    "galleries",
    "versions",
    "virtualmachinescalesets",
    "disks",
}


class State:
    def __init__(self, seed):
        self.lock = threading.Lock()
        self.page_size = int(seed.get("page_size", 100))
        self.fail = {k.lower(): v for k, v in seed.get("fail", {}).items()}
        self.rg_page_size = int(seed.get("rg_page_size", 1000))
        self.rg_refuse = {s.lower() for s in seed.get("rg_refuse", [])}
        self.rg_quota = int(seed.get("rg_quota", 0))
        self.rg_window = (0.0, 0)
        self.subscriptions = [
            dict(s, id="/subscriptions/" + s["subscriptionId"]) for s in seed.get("subscriptions", [])
        ]
        self.resources = {}
        for r in seed.get("resources", []):
            self.resources[r["id"].lower()] = r
        self.requests = 0
        self.operations = {}
        # Every Nth GET answers 429 with Retry-After: 0 (0: never).
        self.throttle_every = int(seed.get("throttle_every", 0))
        self.throttled = 0
        # Paths whose GET answers a body that is not JSON.
        self.malformed = {k.lower() for k in seed.get("malformed", [])}
        # What Permissions_ListForResource answers (default: a contributor).
        self.permissions = seed.get("permissions", [{"actions": ["*"], "notActions": []}])
        # "publisher:offer:sku" -> versions offered.
        self.marketplace = seed.get("marketplace", {})
        # Disk bytes live in Azurite (fake_disks.py); resource id -> blob name.
        self.storage = fake_disks.Storage(seed["azurite"]) if seed.get("azurite") else None
        self.blobs = {}
        # Operation id -> the result an action's operation carries (beginGetAccess).
        self.results = {}

    def children(self, path):
        """Direct children of `path`, or for `/subscriptions/S/providers/NS/TYPE` every
        top-level resource of that type in the subscription."""
        p = path.lower().rstrip("/")
        parts = p.split("/")
        out = []
        if len(parts) == 6 and parts[1] == "subscriptions" and parts[3] == "providers":
            kind = parts[4] + "/" + parts[5]
            prefix = "/subscriptions/" + parts[2] + "/resourcegroups/"
            for rid, r in self.resources.items():
                if rid.startswith(prefix) and r["type"].lower() == kind:
                    out.append(r)
        else:
            for rid, r in self.resources.items():
                if rid.startswith(p + "/") and "/" not in rid[len(p) + 1:]:
                    out.append(r)
        out.sort(key=lambda r: r["id"].lower())
        return out


def merge(into, patch):
    """ARM PATCH: objects merge key by key; tags and other values are replaced."""
    for k, v in patch.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict) and k != "tags":
            merge(into[k], v)
        else:
            into[k] = v


def error(handler, status, code, message):
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.command, self.path))

    def reply(self, status, obj, headers=()):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        st = self.server.state
        url = urlparse(self.path)
        q = parse_qs(url.query)
        path = url.path.rstrip("/")
        with st.lock:
            st.requests += 1
            if not self.headers.get("Authorization", "").startswith("Bearer "):
                return error(self, 401, "AuthenticationFailed", "no bearer token")
            if st.throttle_every and st.requests % st.throttle_every == 0:
                st.throttled += 1
                body = json.dumps({"error": {"code": "TooManyRequests", "message": "slow down"}}).encode()
                self.send_response(429)
                self.send_header("Retry-After", "0")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            if path.lower() in st.malformed:
                body = b"<html>not json</html>"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            if path.lower() in st.fail:
                status = st.fail[path.lower()]
                return error(self, status, "AuthorizationFailed" if status == 403 else "NotFound",
                             "the fake was told to refuse %s" % path)
            if path.lower().endswith("/providers/microsoft.authorization/permissions"):
                return self.reply(200, {"value": st.permissions})
            if path.lower().startswith("/operations/"):
                status = st.operations.get(path.rsplit("/", 1)[-1])
                if status is None:
                    return error(self, 404, "OperationNotFound", "no operation %s" % path)
                op = path.rsplit("/", 1)[-1]
                if op in st.results:
                    return self.reply(200, {"status": status, "properties": {"output": st.results[op]}})
                return self.reply(200, {"status": status})
            one = st.resources.get(path.lower())
            if one is not None:
                return self.reply(200, one)
            if path.lower() == "/subscriptions":
                return self.page(st, st.subscriptions, path, q)
            # VirtualMachineImages_List: a bare array of the versions offered.
            low = path.lower().split("/")
            if len(low) == 16 and low[5] == "locations" and low[-1] == "versions":
                p_, o, k = path.split("/")[8], path.split("/")[12], path.split("/")[14]
                offered = st.marketplace.get("%s:%s:%s" % (p_, o, k))
                if offered is None:
                    return error(self, 404, "NotFound", "no such sku %s:%s:%s" % (p_, o, k))
                return self.reply(200, [{"name": v, "location": low[6],
                                         "id": path + "/" + v} for v in offered])
            if path.lower().endswith("/instanceview"):
                vm = st.resources.get(path.lower()[: -len("/instanceview")])
                if vm is not None:
                    view = dict(vm.get("properties", {}).get("instanceView", {}))
                    view.setdefault("vmAgent", {"statuses": [
                        {"code": "ProvisioningState/succeeded", "displayStatus": "Ready"}]})
                    return self.reply(200, view)
            last = path.rsplit("/", 1)[-1].lower()
            if last not in COLLECTIONS:
                return error(self, 404, "ResourceNotFound",
                             "The Resource '%s' was not found." % path)
            return self.page(st, st.children(path), path, q)

    def page(self, st, items, path, q):
        """One page of `items`, with an absolute nextLink to the next."""
        skip = int(q.get("$skiptoken", ["0"])[0])
        page = items[skip: skip + st.page_size]
        body = {"value": page}
        if skip + st.page_size < len(items):
            query = {k: v[0] for k, v in q.items()}
            query["$skiptoken"] = str(skip + st.page_size)
            body["nextLink"] = "http://%s%s?%s" % (self.headers["Host"], path, urlencode(query))
        return self.reply(200, body)


    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")

    def guarded(self):
        """Common checks of a mutating call; returns the state, or None after an error."""
        st = self.server.state
        if not self.headers.get("Authorization", "").startswith("Bearer "):
            error(self, 401, "AuthenticationFailed", "no bearer token")
            return None
        return st

    def do_PATCH(self):
        st = self.guarded()
        if st is None:
            return
        path = urlparse(self.path).path.rstrip("/")
        body = self.read_body()
        with st.lock:
            st.requests += 1
            r = st.resources.get(path.lower())
            if r is None:
                return error(self, 404, "ResourceNotFound", "The Resource '%s' was not found." % path)
            merge(r, body)
            return self.reply(200, r)

    def do_PUT(self):
        """A new resource answers 201 with Retry-After: 0 (the legacy crate then re-sends the
        PUT), an existing one 200."""
        st = self.guarded()
        if st is None:
            return
        path = urlparse(self.path).path.rstrip("/")
        body = self.read_body()
        parts = path.split("/")
        with st.lock:
            st.requests += 1
            existing = st.resources.get(path.lower())
            body["id"] = path
            body["name"] = parts[-1]
            body["type"] = "/".join(parts[6:7] + parts[7::2])
            props = body.setdefault("properties", {})
            if existing is None:
                refused = None
                if fake_disks.is_disk(path):
                    refused = fake_disks.put_disk(st, path, body)
                elif fake_disks.is_version(path) and st.storage is not None:
                    refused = fake_disks.put_version(st, path, body)
                if refused:
                    return error(self, *refused)
            props["provisioningState"] = "Succeeded"
            if "virtualmachines/" in path.lower() and "/virtualmachinescalesets/" not in path.lower():
                props.setdefault("timeCreated", "2026-11-20T00:00:00Z")
                props.setdefault("instanceView", {"statuses": [
                    {"code": "ProvisioningState/succeeded"}, {"code": "PowerState/running"}]})
            st.resources[path.lower()] = body
            if existing is None:
                return self.reply(201, body, [("Retry-After", "0")])
            return self.reply(200, body)

    def do_POST(self):
        """Actions: `manualUpgrade` of scale-set instances puts the model's image on each and
        answers 202 with an operation to poll."""
        st = self.guarded()
        if st is None:
            return
        path = urlparse(self.path).path.rstrip("/")
        body = self.read_body()
        base, _, action = path.rpartition("/")
        if path.lower() == "/providers/microsoft.resourcegraph/resources":
            return self.graph(st, body)
        with st.lock:
            st.requests += 1
            if fake_disks.is_disk(base) and action.lower() in ("begingetaccess", "endgetaccess"):
                refused, result = fake_disks.action(st, base, action.lower(), body)
                if refused:
                    return error(self, *refused)
                op = self.accepted(st)
                st.results[op] = result
                return
            owner = st.resources.get(base.lower())
            if owner is None or action.lower() != "manualupgrade":
                return error(self, 404, "ResourceNotFound", "no action %s" % path)
            model = owner["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"]
            for i in body.get("instanceIds", []):
                inst = st.resources.get((base + "/virtualMachines/" + i).lower())
                if inst is not None:
                    inst["properties"].setdefault("storageProfile", {})["imageReference"] = model
                    inst["properties"]["latestModelApplied"] = True
            self.accepted(st)

    def graph(self, st, body):
        """Resources_Query: VMs only (what drydock asks for), ordered by id."""
        import time
        with st.lock:
            st.requests += 1
            now = time.time()
            start, used = st.rg_window
            if now - start >= 1.0:
                start, used = now, 0
            left_ms = max(0, int((start + 1.0 - now) * 1000))
            resets = "00:00:%02d.%03d" % (left_ms // 1000, left_ms % 1000)
            if st.rg_quota and used >= st.rg_quota:
                sys.stderr.write("RG 429 quota spent\n")
                out = json.dumps({"error": {"code": "RateLimiting", "message": "quota spent"}}).encode()
                self.send_response(429)
                self.send_header("x-ms-user-quota-remaining", "0")
                self.send_header("x-ms-user-quota-resets-after", resets)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)
                return
            used += 1
            st.rg_window = (start, used)
            remaining = str(max(0, st.rg_quota - used)) if st.rg_quota else "15"
            quota = [("x-ms-user-quota-remaining", remaining), ("x-ms-user-quota-resets-after", resets)]
            subs = [s.lower() for s in body.get("subscriptions", [])]
            refused = [s for s in subs if s in st.rg_refuse]
            if refused:
                return self.reply(403, {"error": {
                    "code": "AuthorizationFailed",
                    "message": "no read access to %d subscriptions" % len(refused),
                    "details": [{"code": "NoReadAccess", "subscriptionId": s,
                                 "message": "subscription %s" % s} for s in refused]}}, quota)
            kind = ("microsoft.compute/virtualmachinescalesets/virtualmachines"
                    if "virtualmachinescalesets/virtualmachines" in body.get("query", "").lower()
                    else "microsoft.compute/virtualmachines")
            rows = sorted(
                (r for r in st.resources.values()
                 if r["type"].lower() == kind
                 and r["id"].lower().split("/")[2] in subs),
                key=lambda r: r["id"].lower())
            opts = body.get("options", {})
            top = min(int(opts.get("$top", 1000)), st.rg_page_size)
            skip = int(opts.get("$skipToken") or 0)
            page = []
            for r in rows[skip: skip + top]:
                row = dict(r, subscriptionId=r["id"].split("/")[2])
                power = r.get("properties", {}).get("instanceView", {}).get("statuses", [])
                code = next((s["code"] for s in power if s["code"].startswith("PowerState/")), None)
                if code:
                    props = dict(row.get("properties", {}))
                    props["extended"] = {"instanceView": {"powerState": {"code": code}}}
                    row["properties"] = props
                page.append(row)
            out = {"totalRecords": len(rows), "count": len(page), "data": page,
                   "resultTruncated": "false"}
            if skip + top < len(rows):
                out["$skipToken"] = str(skip + top)
            return self.reply(200, out, quota)

    def accepted(self, st):
        op = str(len(st.operations) + 1)
        st.operations[op] = "Succeeded"
        url = "http://%s/operations/%s?api-version=2024-07-01" % (self.headers["Host"], op)
        self.send_response(202)
        self.send_header("Azure-AsyncOperation", url)
        self.send_header("Location", url)
        self.send_header("Retry-After", "0")
        self.send_header("Content-Length", "0")
        self.end_headers()
        return op

    def do_DELETE(self):
        st = self.guarded()
        if st is None:
            return
        path = urlparse(self.path).path.rstrip("/")
        with st.lock:
            st.requests += 1
            if path.lower() not in st.resources:
                return error(self, 404, "ResourceNotFound", "The Resource '%s' was not found." % path)
            refused = fake_disks.refuse_delete(st, path)
            if refused:
                return error(self, *refused)
            if st.resources[path.lower()].get("tags", {}).get("lock") == "CanNotDelete":
                return error(self, 409, "ScopeLocked",
                             "The scope '%s' cannot perform delete operation because following scope(s) are locked" % path)
            for rid in [k for k in st.resources if k == path.lower() or k.startswith(path.lower() + "/")]:
                del st.resources[rid]
                fake_disks.deleted(st, rid)
            self.accepted(st)


DEMO_SUB = "6b1f3c2e-0f4d-4a6b-9a53-2d8e7c1b4f90"


def demo_seed():
    """A realistic subscription for demo/fake-arm-demo.sh: a golden family built on a
    marketplace base and an application family built on it (lineage in the tags), a version
    past its end of life and one excluded from latest, marketplace VMs with newer versions
    offered, a scale set with instances not on its latest model, and VMs whose image was
    deleted. Dates are relative to today."""
    import datetime as dt

    today = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    day = lambda n: (today - dt.timedelta(days=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
    sub = DEMO_SUB
    rid = lambda rg, rest: "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/%s" % (sub, rg, rest)
    base = "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2"
    res = []
    gallery = rid("rg-images", "galleries/golden")
    res.append({"id": gallery, "name": "golden", "type": "Microsoft.Compute/galleries",
                "location": "westeurope", "properties": {}})
    def definition(name):
        res.append({"id": gallery + "/images/" + name, "name": name,
                    "type": "Microsoft.Compute/galleries/images", "location": "westeurope",
                    "properties": {"osType": "Linux", "osState": "Generalized",
                                   "identifier": {"publisher": "acme", "offer": name, "sku": "1"}}})
    def version(family, v, age, parent, eol=None, exclude=False):
        pp = {"publishedDate": day(age), "targetRegions": [{"name": "West Europe"}]}
        if eol is not None:
            pp["endOfLifeDate"] = day(eol)
        if exclude:
            pp["excludeFromLatest"] = True
        vid = gallery + "/images/%s/versions/%s" % (family, v)
        res.append({"id": vid, "name": v, "location": "westeurope",
                    "type": "Microsoft.Compute/galleries/images/versions",
                    "tags": {"drydock:family": family, "drydock:version": v, "drydock:parent": parent,
                             "cm-source": json.dumps(["packer", "acme/images", "ci/42", v, day(age)[:10]])},
                    "properties": {"publishingProfile": pp, "provisioningState": "Succeeded",
                                   "storageProfile": {"source": {"virtualMachineId": "builder"}}}})
        return vid
    definition("az-golden")
    definition("payments-api")
    g1 = version("az-golden", "2026.7.0", 140, base + ":22.04.202607010", eol=10)
    g2 = version("az-golden", "2026.10.2", 40, base + ":22.04.202610150")
    g3 = version("az-golden", "2026.11.1", 8, base + ":22.04.202610150", exclude=True)
    a1 = version("payments-api", "2026.7.3", 135, g1)
    a2 = version("payments-api", "2026.10.5", 30, g2)
    a3 = version("payments-api", "2026.11.2", 6, g2)
    def nic(vm, rg):
        nid = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/networkInterfaces/%s-nic" % (sub, rg, vm)
        res.append({"id": nid, "name": vm + "-nic", "type": "Microsoft.Network/networkInterfaces",
                    "location": "westeurope", "properties": {"ipConfigurations": [{"name": "ipconfig1",
                    "properties": {"subnet": {"id": "/subscriptions/%s/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/app" % sub}}}]}})
        return nid
    def vm(name, rg, image, age, power="running", location="westeurope"):
        res.append({"id": rid(rg, "virtualMachines/" + name), "name": name,
                    "type": "Microsoft.Compute/virtualMachines", "location": location,
                    "tags": {"app": name.rsplit("-", 1)[0], "env": "prod"},
                    "properties": {"hardwareProfile": {"vmSize": "Standard_D2s_v3"},
                        "storageProfile": {"imageReference": image, "osDisk": {"createOption": "FromImage",
                            "managedDisk": {"storageAccountType": "Premium_LRS"}}},
                        "osProfile": {"computerName": name, "adminUsername": "ops", "linuxConfiguration": {
                            "disablePasswordAuthentication": True, "ssh": {"publicKeys": [
                                {"path": "/home/ops/.ssh/authorized_keys", "keyData": "ssh-ed25519 AAAA demo"}]}}},
                        "networkProfile": {"networkInterfaces": [{"id": nic(name, rg)}]},
                        "timeCreated": day(age), "provisioningState": "Succeeded",
                        "instanceView": {"statuses": [{"code": "ProvisioningState/succeeded"},
                                                      {"code": "PowerState/" + power}]}}})
    for i in range(1, 9):
        vm("payments-%03d" % i, "rg-payments", {"id": [a1, a2, a3][i % 3]}, 20 + i)
    for i in range(1, 5):
        vm("ledger-%03d" % i, "rg-ledger", {"id": [g1, g2][i % 2]}, 50)
    for i in range(1, 4):
        vm("jumpbox-%03d" % i, "rg-ops", {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy",
           "sku": "22_04-lts-gen2", "version": "latest", "exactVersion": "22.04.202607010"}, 140,
           power="running" if i < 3 else "deallocated")
    vm("legacy-001", "rg-legacy", {"id": gallery + "/images/az-golden/versions/2025.1.0"}, 300)
    vm("legacy-002", "rg-legacy", {"id": rid("rg-images", "images/deleted-image")}, 300)
    vmss = rid("rg-payments", "virtualMachineScaleSets/payments-vmss")
    res.append({"id": vmss, "name": "payments-vmss", "type": "Microsoft.Compute/virtualMachineScaleSets",
                "location": "westeurope", "sku": {"name": "Standard_D2s_v3", "capacity": 4},
                "properties": {"upgradePolicy": {"mode": "Manual"}, "provisioningState": "Succeeded",
                    "virtualMachineProfile": {"storageProfile": {"imageReference": {"id": a3}}}}})
    for n in range(4):
        res.append({"id": vmss + "/virtualMachines/%d" % n, "name": "payments-vmss_%d" % n,
                    "instanceId": str(n), "location": "westeurope",
                    "type": "Microsoft.Compute/virtualMachineScaleSets/virtualMachines",
                    "properties": {"latestModelApplied": n < 2, "provisioningState": "Succeeded",
                        "storageProfile": {"imageReference": {"id": a3 if n < 2 else a2}},
                        "timeCreated": day(10), "instanceView": {"statuses": [{"code": "PowerState/running"}]}}})
    return {"page_size": 50, "resources": res,
            "marketplace": {base: ["22.04.202607010", "22.04.202610150", "22.04.202611200"]}}


def main():
    port = int(sys.argv[1])
    if sys.argv[2] == "--demo":
        seed = demo_seed()
    else:
        with open(sys.argv[2]) as f:
            seed = json.load(f)
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.state = State(seed)
    sys.stderr.write("fake ARM listening on %d\n" % port)
    sys.stderr.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
