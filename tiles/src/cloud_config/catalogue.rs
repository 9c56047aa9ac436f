//! The default VM and disk type catalogues (modelled on Ops Manager's) and how a VM type's CPUs,
//! RAM and disk become CPI cloud properties on each IaaS: vSphere and GCP take them as they are,
//! AWS, Azure and OpenStack get the smallest instance type that fits.

use serde_json::{Map, Value};

use super::director::{DiskTypeConfig, Iaas, VmTypeConfig};

/// The default VM type catalogue, modelled on Ops Manager's: (name, cpu, ram MB, disk MB).
const VM_CATALOGUE: &[(&str, u32, u32, u32)] = &[
    ("nano", 1, 512, 1024),
    ("micro", 1, 1024, 8192),
    ("micro.ram", 1, 2048, 8192),
    ("small", 1, 2048, 8192),
    ("small.disk", 1, 2048, 16384),
    ("medium", 1, 4096, 8192),
    ("medium.mem", 1, 6144, 8192),
    ("medium.disk", 1, 4096, 32768),
    ("large", 2, 8192, 16384),
    ("large.mem", 2, 12288, 16384),
    ("large.disk", 2, 8192, 65536),
    ("large.cpu", 4, 4096, 16384),
    ("xlarge", 4, 16384, 32768),
    ("xlarge.mem", 4, 24576, 32768),
    ("xlarge.disk", 4, 16384, 131072),
    ("xlarge.cpu", 8, 8192, 32768),
    ("2xlarge", 8, 32768, 65536),
    ("2xlarge.mem", 8, 49152, 65536),
    ("2xlarge.disk", 8, 32768, 262144),
    ("2xlarge.cpu", 16, 16384, 65536),
];

/// Default persistent disk sizes (MB), as Ops Manager offers them.
const DISK_CATALOGUE: &[u32] = &[
    1024, 2048, 5120, 10240, 20480, 30720, 51200, 76800, 102400, 153600, 204800, 307200, 512000,
    768000, 1048576, 2097152, 5242880, 10485760, 16777216,
];

pub fn default_vm_types() -> Vec<VmTypeConfig> {
    VM_CATALOGUE
        .iter()
        .map(|&(name, cpu, ram, ephemeral_disk)| VmTypeConfig {
            name: name.to_string(),
            cpu,
            ram,
            ephemeral_disk,
            cloud_properties: None,
        })
        .collect()
}

pub fn default_disk_types() -> Vec<DiskTypeConfig> {
    DISK_CATALOGUE
        .iter()
        .map(|&disk_size| DiskTypeConfig {
            name: None,
            disk_size,
            cloud_properties: Map::new(),
        })
        .collect()
}

/// Instance types per IaaS, smallest first: (name, cpu, ram MB). A VM type without explicit
/// cloud properties gets the smallest one that has at least its CPUs and RAM.
const AWS_TYPES: &[(&str, u32, u32)] = &[
    ("t3.nano", 2, 512),
    ("t3.micro", 2, 1024),
    ("t3.small", 2, 2048),
    ("t3.medium", 2, 4096),
    ("m5.large", 2, 8192),
    ("r5.large", 2, 16384),
    ("m5.xlarge", 4, 16384),
    ("r5.xlarge", 4, 32768),
    ("m5.2xlarge", 8, 32768),
    ("r5.2xlarge", 8, 65536),
    ("m5.4xlarge", 16, 65536),
    ("r5.4xlarge", 16, 131072),
    ("m5.8xlarge", 32, 131072),
    ("m5.12xlarge", 48, 196608),
    ("m5.16xlarge", 64, 262144),
    ("m5.24xlarge", 96, 393216),
];

const AZURE_TYPES: &[(&str, u32, u32)] = &[
    ("Standard_B1ls", 1, 512),
    ("Standard_B1s", 1, 1024),
    ("Standard_B1ms", 1, 2048),
    ("Standard_B2s", 2, 4096),
    ("Standard_D2s_v3", 2, 8192),
    ("Standard_E2s_v3", 2, 16384),
    ("Standard_D4s_v3", 4, 16384),
    ("Standard_E4s_v3", 4, 32768),
    ("Standard_D8s_v3", 8, 32768),
    ("Standard_E8s_v3", 8, 65536),
    ("Standard_D16s_v3", 16, 65536),
    ("Standard_E16s_v3", 16, 131072),
    ("Standard_D32s_v3", 32, 131072),
    ("Standard_D64s_v3", 64, 262144),
];

const OPENSTACK_TYPES: &[(&str, u32, u32)] = &[
    ("m1.tiny", 1, 512),
    ("m1.small", 1, 2048),
    ("m1.medium", 2, 4096),
    ("m1.large", 4, 8192),
    ("m1.xlarge", 8, 16384),
];

fn instance_type(iaas: Iaas, cpu: u32, ram: u32) -> Option<&'static str> {
    let table = match iaas {
        Iaas::Aws => AWS_TYPES,
        Iaas::Azure => AZURE_TYPES,
        Iaas::Openstack => OPENSTACK_TYPES,
        Iaas::Vsphere | Iaas::Gcp | Iaas::Embedded => return None,
    };
    table
        .iter()
        .find(|(_, c, r)| *c >= cpu && *r >= ram)
        .map(|(n, _, _)| *n)
}

pub(super) fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

impl VmTypeConfig {
    /// The CPI cloud properties for this VM type on `iaas` (`None` when no instance type fits).
    pub fn cloud_properties_for(&self, iaas: Iaas) -> Option<Map<String, Value>> {
        if let Some(p) = &self.cloud_properties {
            return Some(p.clone());
        }
        let disk = self.ephemeral_disk;
        Some(match iaas {
            // The stand-in's simulated CPI reads vSphere's shape (sizes, no instance types).
            Iaas::Vsphere | Iaas::Embedded => {
                obj(serde_json::json!({"cpu": self.cpu, "ram": self.ram, "disk": disk}))
            }
            Iaas::Gcp => obj(serde_json::json!({
                "cpu": self.cpu, "ram": self.ram, "root_disk_size_gb": disk.div_ceil(1024)
            })),
            Iaas::Aws => obj(serde_json::json!({
                "instance_type": instance_type(iaas, self.cpu, self.ram)?,
                "ephemeral_disk": {"size": disk, "type": "gp3"}
            })),
            Iaas::Azure => obj(serde_json::json!({
                "instance_type": instance_type(iaas, self.cpu, self.ram)?,
                "ephemeral_disk": {"size": disk}
            })),
            Iaas::Openstack => obj(serde_json::json!({
                "instance_type": instance_type(iaas, self.cpu, self.ram)?,
                "root_disk": {"size": disk.div_ceil(1024)}
            })),
        })
    }
}
