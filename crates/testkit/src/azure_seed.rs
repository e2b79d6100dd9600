//! A seeded Azure subscription for the fake Resource Manager, in the shapes of the REST API
//! specification examples: a gallery with three versions of `web-base` (one past its end
//! of life, one excluded from latest), a gallery whose versions are refused (403), a
//! managed image, seven VMs over them (one on a marketplace image, one in eastus), an eighth
//! on the definition itself (meaning its latest version), and a scale set on the
//! definition with three instances, one not on the latest model (still on 2026.9.1).

use serde_json::{json, Value};

pub const SUB: &str = "6b1f3c2e-0000-4000-8000-000000000001";

fn rid(rg: &str, rest: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Compute/{rest}")
}

fn vm(name: &str, location: &str, image: Value, power: &str) -> Value {
    json!({
        "id": rid("rg-web", &format!("virtualMachines/{name}")),
        "name": name, "type": "Microsoft.Compute/virtualMachines", "location": location,
        "tags": {"app": "web"},
        "properties": {
            "hardwareProfile": {"vmSize": "Standard_D2s_v3"},
            "storageProfile": {"imageReference": image,
                "osDisk": {"createOption": "FromImage", "managedDisk": {"storageAccountType": "Premium_LRS"}}},
            "osProfile": {"computerName": name, "adminUsername": "ops",
                "linuxConfiguration": {"disablePasswordAuthentication": true,
                    "ssh": {"publicKeys": [{"path": "/home/ops/.ssh/authorized_keys", "keyData": "ssh-ed25519 AAAA test"}]}}},
            "networkProfile": {"networkInterfaces": [{"id": format!("/subscriptions/{SUB}/resourceGroups/rg-web/providers/Microsoft.Network/networkInterfaces/{name}-nic")}]},
            "timeCreated": "2026-10-01T00:00:00Z",
            "provisioningState": "Succeeded",
            "instanceView": {"statuses": [
                {"code": "ProvisioningState/succeeded"}, {"code": format!("PowerState/{power}")}
            ]}
        }
    })
}

fn version(gallery: &str, def: &str, v: &str, published: &str, extra: Value) -> Value {
    let mut publishing =
        json!({"publishedDate": published, "targetRegions": [{"name": "West Europe"}]});
    for (k, val) in extra.as_object().unwrap() {
        publishing[k] = val.clone();
    }
    json!({
        "id": rid("rg-images", &format!("galleries/{gallery}/images/{def}/versions/{v}")),
        "name": v, "type": "Microsoft.Compute/galleries/images/versions", "location": "westeurope",
        "tags": {"drydock:family": def},
        "properties": {"publishingProfile": publishing, "provisioningState": "Succeeded",
                       "storageProfile": {"osDiskImage": {"hostCaching": "ReadOnly"}}}
    })
}

pub fn seed() -> Value {
    let gallery = |name: &str| {
        json!({"id": rid("rg-images", &format!("galleries/{name}")), "name": name,
               "type": "Microsoft.Compute/galleries", "location": "westeurope", "properties": {}})
    };
    let def = json!({"id": rid("rg-images", "galleries/golden/images/web-base"), "name": "web-base",
        "type": "Microsoft.Compute/galleries/images", "location": "westeurope",
        "properties": {"osType": "Linux", "osState": "Generalized",
                       "identifier": {"publisher": "acme", "offer": "web", "sku": "base"}}});
    let hidden = json!({"id": rid("rg-images", "galleries/secret/images/hidden"), "name": "hidden",
        "type": "Microsoft.Compute/galleries/images", "location": "westeurope",
        "properties": {"osType": "Linux", "osState": "Generalized",
                       "identifier": {"publisher": "acme", "offer": "x", "sku": "y"}}});
    let v = |n: &str| json!({"id": rid("rg-images", &format!("galleries/golden/images/web-base/versions/{n}"))});
    let managed = json!({"id": rid("rg-images", "images/legacy-img"), "name": "legacy-img",
        "type": "Microsoft.Compute/images", "location": "westeurope",
        "tags": {"drydock:created": "2026-01-01T00:00:00Z"}, "properties": {"provisioningState": "Succeeded",
            "storageProfile": {"osDisk": {"osType": "Linux", "osState": "Generalized",
                "snapshot": {"id": rid("rg-images", "snapshots/legacy-snap")},
                "managedDisk": {"id": rid("rg-images", "disks/legacy-disk")}},
                "dataDisks": [{"lun": 0, "managedDisk": {"id": rid("rg-images", "disks/attached-disk")}}]}}});
    let marketplace = json!({"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy",
        "sku": "22_04-lts-gen2", "version": "latest", "exactVersion": "22.04.202610150"});
    json!({
        "page_size": 2,
        "marketplace": {
            "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2":
                ["22.04.202607010", "22.04.202610150", "22.04.202611200"]
        },
        "fail": {
            format!("/subscriptions/{SUB}/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/secret/images/hidden/versions"): 403
        },
        "resources": [
            gallery("golden"), gallery("secret"), def, hidden, managed,
            json!({"id": rid("rg-images", "snapshots/legacy-snap"), "name": "legacy-snap",
                   "type": "Microsoft.Compute/snapshots", "location": "westeurope",
                   "properties": {"creationData": {"createOption": "Copy"}}}),
            json!({"id": rid("rg-images", "disks/legacy-disk"), "name": "legacy-disk",
                   "type": "Microsoft.Compute/disks", "location": "westeurope",
                   "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 30}}),
            json!({"id": rid("rg-images", "disks/attached-disk"), "name": "attached-disk",
                   "managedBy": rid("rg-web", "virtualMachines/web-005"),
                   "type": "Microsoft.Compute/disks", "location": "westeurope",
                   "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 30}}),
            version("golden", "web-base", "2026.9.1", "2026-09-01T00:00:00Z", json!({"endOfLifeDate": "2026-11-01T00:00:00Z"})),
            version("golden", "web-base", "2026.10.1", "2026-10-01T00:00:00Z", json!({"excludeFromLatest": true})),
            version("golden", "web-base", "2026.11.1", "2026-11-01T00:00:00Z", json!({})),
            vm("web-001", "westeurope", v("2026.11.1"), "running"),
            vm("web-002", "westeurope", v("2026.11.1"), "running"),
            vm("web-003", "WestEurope", v("2026.11.1"), "deallocated"),
            vm("web-004", "westeurope", v("2026.9.1"), "running"),
            vm("web-005", "westeurope", json!({"id": rid("rg-images", "images/legacy-img")}), "stopped"),
            vm("web-006", "westeurope", marketplace, "running"),
            vm("web-007", "eastus", v("2026.11.1"), "running"),
            locked(vm("web-009", "westeurope", json!({"id": rid("rg-images", "images/legacy-img")}), "running")),
            vm("web-008", "westeurope", json!({"id": rid("rg-images", "galleries/golden/images/web-base")}), "running"),
            nic("web-001"), nic("web-002"), nic("web-003"), nic("web-004"),
            nic("web-005"), nic("web-006"), nic("web-007"), nic("web-008"), nic("web-009"),
            scale_set(),
            instance(0, v("2026.11.1"), true),
            instance(1, v("2026.11.1"), true),
            instance(2, v("2026.9.1"), false),
        ]
    })
}

fn scale_set() -> Value {
    json!({
        "id": rid("rg-web", "virtualMachineScaleSets/web-vmss"), "name": "web-vmss",
        "type": "Microsoft.Compute/virtualMachineScaleSets", "location": "westeurope",
        "sku": {"name": "Standard_D2s_v3", "capacity": 3},
        "tags": {"app": "web"},
        "properties": {"upgradePolicy": {"mode": "Rolling"}, "provisioningState": "Succeeded",
            "virtualMachineProfile": {"storageProfile": {"imageReference":
                {"id": rid("rg-images", "galleries/golden/images/web-base")}}}}
    })
}

fn instance(n: u32, image: Value, latest: bool) -> Value {
    json!({
        "id": rid("rg-web", &format!("virtualMachineScaleSets/web-vmss/virtualMachines/{n}")),
        "name": format!("web-vmss_{n}"), "instanceId": n.to_string(),
        "type": "Microsoft.Compute/virtualMachineScaleSets/virtualMachines", "location": "westeurope",
        "properties": {"latestModelApplied": latest, "provisioningState": "Succeeded",
            "storageProfile": {"imageReference": image},
            "timeCreated": "2026-10-05T00:00:00Z",
            "instanceView": {"statuses": [{"code": "PowerState/running"}]}}
    })
}

fn nic(vm: &str) -> Value {
    json!({
        "id": format!("/subscriptions/{SUB}/resourceGroups/rg-web/providers/Microsoft.Network/networkInterfaces/{vm}-nic"),
        "name": format!("{vm}-nic"), "type": "Microsoft.Network/networkInterfaces", "location": "westeurope",
        "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": {"subnet": {"id":
            format!("/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/web")}}}]}
    })
}

/// A resource under a delete lock (the fake answers its DELETE with 409 ScopeLocked).
fn locked(mut r: Value) -> Value {
    r["tags"]["lock"] = json!("CanNotDelete");
    r
}

/// The VMs of a report (`report --format json`) whose image id ends with `suffix`.
pub fn vms_on(doc: &Value, suffix: &str) -> usize {
    doc["vms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["image_id"].as_str().unwrap().ends_with(suffix))
        .count()
}
