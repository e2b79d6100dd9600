"""Managed disks for the fake Resource Manager, their bytes kept as page blobs in Azurite
(Microsoft's Azure Storage emulator), as Azure keeps them in its own storage:

- PUT disk with creationData.createOption "Upload" (uploadSizeBytes: a whole number of MiB
  plus the 512-byte VHD footer) makes an empty page blob; "FromImage" with a
  galleryImageReference copies the gallery version's blob;
- POST beginGetAccess answers 202 and, at its Location, {"accessSAS": a blob SAS URL on
  Azurite} (write access only on a disk ReadyToUpload); POST endGetAccess seals it;
- PUT of a gallery image version whose storageProfile.osDiskImage.source.id is a sealed disk
  copies the disk's blob into the gallery;
- DELETE of a disk with an active grant is refused (409), as Azure does.

Python standard library only; the seed's "azurite": {"url", "account", "key"} says where.
"""

import base64
import datetime
import hashlib
import hmac
import urllib.error
import urllib.parse
import urllib.request

SAS_VERSION = "2019-12-12"
MIB = 1 << 20
GIB = 1 << 30


class Storage:
    def __init__(self, conf):
        self.url = conf["url"].rstrip("/")
        self.account = conf.get("account", "devstoreaccount1")
        self.key = base64.b64decode(conf["key"])
        self.container = "disks"
        self.create_container()

    def create_container(self):
        """Create Container needs an account SAS (service c, resource type c)."""
        expiry = (datetime.datetime.utcnow() + datetime.timedelta(days=1)).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        to_sign = "\n".join([self.account, "rwdlc", "b", "sco", "", expiry, "", "",
                             SAS_VERSION, ""])
        sig = base64.b64encode(hmac.new(self.key, to_sign.encode(), hashlib.sha256).digest())
        query = urllib.parse.urlencode({"sv": SAS_VERSION, "ss": "b", "srt": "sco",
                                        "sp": "rwdlc", "se": expiry, "sig": sig.decode()})
        req = urllib.request.Request("%s/%s/%s?restype=container&%s" % (
            self.url, self.account, self.container, query), method="PUT", data=b"")
        req.add_header("x-ms-version", SAS_VERSION)
        try:
            urllib.request.urlopen(req).read()
        except urllib.error.HTTPError as e:
            if e.code != 409:
                raise RuntimeError("Azurite create container: %s %s" % (e.code, e.read()[:300]))

    def sas(self, container, blob, perms, resource):
        expiry = (datetime.datetime.utcnow() + datetime.timedelta(days=1)).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        canonical = "/blob/%s/%s" % (self.account, container)
        if resource == "b":
            canonical += "/" + blob
        to_sign = "\n".join([perms, "", expiry, canonical, "", "", "", SAS_VERSION, resource,
                             "", "", "", "", "", ""])
        sig = base64.b64encode(hmac.new(self.key, to_sign.encode(), hashlib.sha256).digest())
        return urllib.parse.urlencode({"sv": SAS_VERSION, "sr": resource, "sp": perms,
                                       "se": expiry, "sig": sig.decode()})

    def blob_url(self, blob, perms="r"):
        return "%s/%s/%s/%s?%s" % (self.url, self.account, self.container, blob,
                                   self.sas(self.container, blob, perms, "b"))

    def request(self, method, container, blob, perms, resource, extra="", headers=None,
                ok=(200, 201, 202)):
        path = "%s/%s/%s" % (self.url, self.account, container)
        if blob:
            path += "/" + blob
        query = self.sas(container, blob, perms, resource)
        if extra:
            query = extra + "&" + query
        req = urllib.request.Request(path + "?" + query, method=method, data=b"" if method == "PUT" else None)
        req.add_header("x-ms-version", SAS_VERSION)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req) as rsp:
                return rsp.status, rsp.read()
        except urllib.error.HTTPError as e:
            if e.code in ok:
                return e.code, e.read()
            raise RuntimeError("Azurite %s %s: %s %s" % (method, path, e.code, e.read()[:300]))

    def create(self, blob, size):
        self.request("PUT", self.container, blob, "rcw", "b", headers={
            "x-ms-blob-type": "PageBlob", "x-ms-blob-content-length": str(size)})

    def copy(self, src, dst):
        """Copy a page blob range by range (Azurite's Copy Blob fails on large page blobs)."""
        size = self.size(src)
        self.create(dst, size)
        _, listing = self.request("GET", self.container, src, "r", "b", extra="comp=pagelist")
        text = listing.decode()
        for part in text.split("<PageRange>")[1:]:
            start = int(part.split("<Start>")[1].split("</Start>")[0])
            end = int(part.split("<End>")[1].split("</End>")[0]) + 1
            while start < end:
                n = min(end - start, 4 * MIB)
                rng = "bytes=%d-%d" % (start, start + n - 1)
                _, data = self.request("GET", self.container, src, "r", "b",
                                       headers={"x-ms-range": rng})
                self.put_page(dst, start, data)
                start += n

    def put_page(self, blob, offset, data):
        # `by=fake` marks the fake's own copies in Azurite's access log (tests count the
        # Put Page calls drydock makes).
        path = "%s/%s/%s/%s?comp=page&by=fake&%s" % (self.url, self.account, self.container, blob,
                                                     self.sas(self.container, blob, "w", "b"))
        req = urllib.request.Request(path, method="PUT", data=data)
        req.add_header("x-ms-version", SAS_VERSION)
        req.add_header("x-ms-page-write", "update")
        req.add_header("x-ms-range", "bytes=%d-%d" % (offset, offset + len(data) - 1))
        urllib.request.urlopen(req).read()

    def size(self, blob):
        path = "%s/%s/%s/%s?%s" % (self.url, self.account, self.container, blob,
                                   self.sas(self.container, blob, "r", "b"))
        req = urllib.request.Request(path, method="HEAD")
        req.add_header("x-ms-version", SAS_VERSION)
        with urllib.request.urlopen(req) as rsp:
            return int(rsp.headers["Content-Length"])

    def delete(self, blob):
        self.request("DELETE", self.container, blob, "d", "b", ok=(202, 404))


def blob_name(rid):
    return hashlib.sha1(rid.lower().encode()).hexdigest()


def is_disk(path):
    parts = path.lower().split("/")
    return len(parts) == 9 and parts[6] == "microsoft.compute" and parts[7] == "disks"


def is_version(path):
    parts = path.lower().split("/")
    return len(parts) == 13 and parts[7] == "galleries" and parts[11] == "versions"


def put_disk(st, path, body):
    """Returns (status, error code, message) when the disk is refused, else None."""
    if st.storage is None:
        return 501, "NotImplemented", "the fake was started without Azurite"
    props = body.setdefault("properties", {})
    data = props.get("creationData", {})
    option = data.get("createOption")
    blob = blob_name(path)
    if option == "Upload":
        size = int(data.get("uploadSizeBytes", 0))
        if size < MIB + 512 or (size - 512) % MIB != 0:
            return 400, "InvalidParameter", (
                "uploadSizeBytes %d must be a whole number of MiB plus 512 bytes" % size)
        st.storage.create(blob, size)
        props["diskState"] = "ReadyToUpload"
    elif option == "FromImage":
        ref = (data.get("galleryImageReference") or {}).get("id", "").lower()
        source = st.blobs.get(ref)
        if source is None:
            return 404, "NotFound", "no gallery image version %s with data" % ref
        st.storage.copy(source, blob)
        size = st.storage.size(blob)
        props["diskState"] = "Unattached"
    else:
        return 400, "InvalidParameter", "createOption %r is not served by the fake" % option
    props["diskSizeBytes"] = size - 512
    props["diskSizeGB"] = -(-(size - 512) // GIB)
    st.blobs[path.lower()] = blob
    return None


def put_version(st, path, body):
    """A version made from a sealed disk gets a copy of its bytes."""
    source = (((body.get("properties") or {}).get("storageProfile") or {})
              .get("osDiskImage") or {}).get("source", {}).get("id")
    if not source:
        return None
    disk = st.resources.get(source.lower())
    if disk is None:
        return 404, "NotFound", "no disk %s" % source
    state = disk["properties"].get("diskState")
    if state != "Unattached":
        return 409, "OperationNotAllowed", "disk %s is %s, not sealed" % (source, state)
    blob = blob_name(path)
    st.storage.copy(st.blobs[source.lower()], blob)
    st.blobs[path.lower()] = blob
    size = st.storage.size(blob) - 512
    props = body["properties"]
    props["storageProfile"]["osDiskImage"]["sizeInGB"] = -(-size // GIB)
    props.setdefault("publishingProfile", {})["publishedDate"] = (
        datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%S.0000000Z"))
    return None


def action(st, path, action_name, body):
    """beginGetAccess / endGetAccess on a disk: (status, code, message) or (None, result)."""
    disk = st.resources.get(path.lower())
    if disk is None:
        return (404, "ResourceNotFound", "no disk %s" % path), None
    props = disk["properties"]
    blob = st.blobs.get(path.lower())
    if action_name == "begingetaccess":
        access = body.get("access", "Read")
        if access == "Write":
            if props.get("diskState") != "ReadyToUpload":
                return (409, "OperationNotAllowed",
                        "disk %s is %s; write access needs ReadyToUpload" % (path, props.get("diskState"))), None
            props["diskState"] = "ActiveUpload"
            return None, {"accessSAS": st.storage.blob_url(blob, "rw")}
        props["diskState"] = "ActiveSAS"
        return None, {"accessSAS": st.storage.blob_url(blob, "r")}
    if action_name == "endgetaccess":
        props["diskState"] = "Unattached" if props.get("diskState") in ("ActiveUpload", "ActiveSAS") else props.get("diskState")
        return None, {}
    return (404, "ResourceNotFound", "no action %s" % action_name), None


def refuse_delete(st, path):
    disk = st.resources.get(path.lower())
    if disk is not None and disk["properties"].get("diskState") in ("ActiveUpload", "ActiveSAS"):
        return (409, "OperationNotAllowed",
                "disk %s has an active access grant; call endGetAccess first" % path)
    return None


def deleted(st, path):
    blob = st.blobs.pop(path.lower(), None)
    if blob is not None and st.storage is not None:
        st.storage.delete(blob)
