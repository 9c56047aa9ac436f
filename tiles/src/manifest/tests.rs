use super::*;
use serde_json::json;

/// The abbreviated CFCR manifest of bosh-cfcr-pks-odb §2.5, with its elisions filled in.
pub(crate) fn cfcr() -> Value {
    let etcdctl = json!({"ca": "((tls-etcdctl-flanneld.ca))", "certificate": "((tls-etcdctl-flanneld.certificate))", "private_key": "((tls-etcdctl-flanneld.private_key))"});
    json!({
        "name": "cfcr",
        "features": {"use_dns_addresses": true},
        "addons": [{
            "name": "bosh-dns-aliases",
            "include": {"stemcell": [{"os": "ubuntu-xenial"}]},
            "jobs": [{"name": "kubo-dns-aliases", "release": "kubo"}]
        }],
        "releases": [
            {"name": "kubo", "version": "0.44.0", "url": "https://example.org/kubo-0.44.0.tgz", "sha1": "aaaa", "stemcell": {"os": "ubuntu-xenial", "version": "621.76"}},
            {"name": "cfcr-etcd", "version": "1.12.4", "url": "https://example.org/cfcr-etcd.tgz", "sha1": "bbbb", "stemcell": {"os": "ubuntu-xenial", "version": "621.76"}},
            {"name": "docker", "version": "35.3.4", "url": "https://example.org/docker.tgz", "sha1": "cccc", "stemcell": {"os": "ubuntu-xenial", "version": "621.76"}},
            {"name": "bpm", "version": "1.1.8", "url": "https://example.org/bpm.tgz", "sha1": "dddd", "stemcell": {"os": "ubuntu-xenial", "version": "621.76"}}
        ],
        "stemcells": [{"alias": "default", "os": "ubuntu-xenial", "version": "621.76"}],
        "update": {"canaries": 1, "max_in_flight": 1, "canary_watch_time": "10000-300000", "update_watch_time": "10000-300000"},
        "instance_groups": [
            {
                "name": "apply-addons",
                "lifecycle": "errand",
                "azs": ["z1"],
                "instances": 1,
                "vm_type": "minimal",
                "stemcell": "default",
                "networks": [{"name": "default"}],
                "jobs": [{
                    "name": "apply-specs",
                    "release": "kubo",
                    "properties": {
                        "addons": ["coredns", "metrics-server"],
                        "admin-username": "admin",
                        "admin-password": "((kubo-admin-password))",
                        "api-token": "((kubelet-password))",
                        "tls": {"kubernetes": "((tls-kubernetes))", "metrics-server": "((tls-metrics-server))"}
                    }
                }]
            },
            {
                "name": "master",
                "azs": ["z1", "z2", "z3"],
                "instances": 3,
                "vm_type": "small",
                "persistent_disk": 5120,
                "stemcell": "default",
                "networks": [{"name": "default"}],
                "jobs": [
                    {"name": "bpm", "release": "bpm"},
                    {"name": "flanneld", "release": "kubo", "provides": {"flanneld": {"as": "worker-flanneld"}},
                     "properties": {"tls": {"etcdctl": etcdctl}}},
                    {"name": "kube-apiserver", "release": "kubo", "properties": {
                        "admin-username": "admin",
                        "admin-password": "((kubo-admin-password))",
                        "kubelet-password": "((kubelet-password))",
                        "service-account-public-key": "((service-account-key.public_key))",
                        "tls": {
                            "kubelet-client": "((tls-kubelet-client))",
                            "kubernetes": {"ca": "((tls-kubernetes.ca))", "certificate": "((tls-kubernetes.certificate))((tls-kubernetes.ca))", "private_key": "((tls-kubernetes.private_key))"}
                        },
                        "audit-policy": {"apiVersion": "audit.k8s.io/v1beta1", "kind": "Policy", "rules": [{"level": "None"}]},
                        "k8s-args": {"secure-port": 8443, "service-cluster-ip-range": "10.100.200.0/24", "authorization-mode": "RBAC",
                                     "enable-admission-plugins": [], "disable-admission-plugins": []}
                    }},
                    {"name": "kube-controller-manager", "release": "kubo", "properties": {
                        "api-token": "((kube-controller-manager-password))", "cluster-signing": "((kubo_ca))",
                        "service-account-private-key": "((service-account-key.private_key))",
                        "tls": {"kube-controller-manager": "((tls-kube-controller-manager))", "kubernetes": "((tls-kubernetes))"},
                        "k8s-args": {"terminated-pod-gc-threshold": 100}}},
                    {"name": "kube-scheduler", "release": "kubo", "properties": {"api-token": "((kube-scheduler-password))", "tls": {"kubernetes": "((tls-kubernetes))"}, "kube-scheduler-configuration": {"apiVersion": "kubescheduler.config.k8s.io/v1alpha1"}}},
                    {"name": "kubernetes-roles", "release": "kubo", "properties": {"admin-username": "admin", "admin-password": "((kubo-admin-password))", "tls": {"kubernetes": "((tls-kubernetes))"}}},
                    {"name": "etcd", "release": "cfcr-etcd", "properties": {
                        "etcd": {"dns_suffix": "etcd.cfcr.internal"},
                        "tls": {"etcd": {"ca": "((tls-etcd-v0-29-0.ca))"}, "etcdctl": {"ca": "((tls-etcdctl-v0-29-0.ca))"}, "etcdctl-root": {"ca": "((tls-etcdctl-root.ca))"}, "peer": {"ca": "((tls-etcd-peer.ca))"}},
                        "users": [
                            {"name": "root", "password": "((etcd_user_root_password))", "versions": ["v2"]},
                            {"name": "flanneld", "password": "((etcd_user_flanneld_password))", "versions": ["v2"],
                             "permissions": {"read": ["/coreos.com/network/*"], "write": ["/coreos.com/network/*"]}}
                        ]}},
                    {"name": "smoke-tests", "release": "kubo"}
                ]
            },
            {
                "name": "worker",
                "azs": ["z1", "z2", "z3"],
                "instances": 3,
                "vm_type": "small-highmem",
                "stemcell": "default",
                "networks": [{"name": "default"}],
                "jobs": [
                    {"name": "flanneld", "release": "kubo", "properties": {"tls": {"etcdctl": etcdctl}}},
                    {"name": "docker", "release": "docker", "properties": {"bridge": "cni0", "flannel": true, "iptables": false, "ip_masq": false, "storage_driver": "overlay2", "store_dir": "/var/vcap/data"}},
                    {"name": "kubernetes-dependencies", "release": "kubo"},
                    {"name": "kubelet", "release": "kubo", "properties": {
                        "api-token": "((kubelet-password))",
                        "drain-api-token": "((kubelet-drain-password))",
                        "k8s-args": {"container-runtime": "docker", "network-plugin": "cni", "root-dir": "/var/vcap/data/kubelet"},
                        "kubelet-configuration": {"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration", "clusterDNS": ["10.100.200.10"], "clusterDomain": "cluster.local"},
                        "tls": {"kubelet": {"ca": "((tls-kubelet.ca))", "certificate": "((tls-kubelet.certificate))((tls-kubelet.ca))", "private_key": "((tls-kubelet.private_key))"},
                                "kubelet-client-ca": {"certificate": "((tls-kubelet-client.ca))"}, "kubernetes": "((tls-kubernetes))"}}},
                    {"name": "kube-proxy", "release": "kubo", "properties": {"api-token": "((kube-proxy-password))", "tls": {"kubernetes": "((tls-kubernetes))"},
                        "kube-proxy-configuration": {"mode": "iptables", "clusterCIDR": "10.200.0.0/16"}}}
                ]
            }
        ],
        "variables": [
            {"name": "kubo-admin-password", "type": "password"},
            {"name": "kubelet-password", "type": "password"},
            {"name": "kubo_ca", "type": "certificate", "options": {"is_ca": true, "common_name": "ca", "duration": 1095}},
            {"name": "tls-kubernetes", "type": "certificate", "options": {"ca": "kubo_ca", "common_name": "master.cfcr.internal", "alternative_names": ["10.100.200.1", "kubernetes"], "extended_key_usage": ["server_auth", "client_auth"]}},
            {"name": "service-account-key", "type": "rsa"}
        ]
    })
}

#[test]
fn cfcr_round_trip() {
    let v = cfcr();
    let m = Manifest::from_value(&v).unwrap();
    assert_eq!(m.name, "cfcr");
    assert_eq!(m.instance_groups.len(), 3);
    assert!(m.instance_groups[0].is_errand());
    assert_eq!(m.instance_groups[1].persistent_disk, Some(5120));
    assert_eq!(m.instance_groups[1].jobs.len(), 8);
    assert_eq!(
        m.update.as_ref().unwrap().canary_watch_time,
        Some(WatchTime::Text("10000-300000".into()))
    );
    let back = m.to_value().unwrap();
    assert_eq!(back, v);
    // Serialized in BOSH's documented order, whatever the input order was.
    let keys: Vec<&str> = back
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "name",
            "features",
            "releases",
            "stemcells",
            "update",
            "instance_groups",
            "addons",
            "variables"
        ]
    );
    let group_keys: Vec<&str> = back["instance_groups"][1]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        group_keys,
        [
            "name",
            "azs",
            "instances",
            "jobs",
            "vm_type",
            "stemcell",
            "persistent_disk",
            "networks"
        ]
    );
    // Job property order is the input order (values are kept as trees).
    let props: Vec<&str> = back["instance_groups"][1]["jobs"][2]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(props[0], "admin-username");
    assert_eq!(props[6], "k8s-args");
}

#[test]
fn unknown_keys_survive() {
    let v = json!({
        "name": "d",
        "releases": [{"name": "r", "version": "1", "future_key": 1}],
        "stemcells": [{"alias": "default", "os": "ubuntu-jammy", "version": "latest"}],
        "update": {"canaries": "10%", "max_in_flight": "25%", "canary_watch_time": 1000, "update_watch_time": 1000, "serial": false, "vm_strategy": "create-swap-delete"},
        "instance_groups": [{
            "name": "g", "instances": 2, "azs": ["z1"], "stemcell": "default", "vm_type": "small",
            "networks": [{"name": "n", "static_ips": ["10.0.0.10", "10.0.0.11"], "default": ["dns", "gateway"]}],
            "jobs": [{"name": "j", "release": "r", "consumes": {"db": null}, "custom_provider_definitions": [{"name": "x", "type": "y"}]}],
            "migrated_from": [{"name": "old", "az": "z1"}],
            "env": {"bosh": {"keep_root_password": true}},
            "update": {"max_in_flight": 1},
            "new_group_key": "kept"
        }],
        "networks": [{"name": "forbidden-but-kept"}],
        "tags": {"team": "a"}
    });
    let m = Manifest::from_value(&v).unwrap();
    assert_eq!(m.extra.get("networks"), v.get("networks"));
    assert_eq!(
        m.instance_groups[0].extra.get("new_group_key"),
        Some(&json!("kept"))
    );
    assert_eq!(m.to_value().unwrap(), v);
}

#[test]
fn numeric_versions_become_strings() {
    let v = json!({
        "name": "d",
        "releases": [{"name": "r", "version": 15}],
        "stemcells": [{"alias": "default", "os": "ubuntu-trusty", "version": 3586.26}],
        "instance_groups": []
    });
    let m = Manifest::from_value(&v).unwrap();
    assert_eq!(m.releases[0].version.as_str(), "15");
    assert_eq!(m.stemcells[0].version.as_str(), "3586.26");
    assert_eq!(m.to_value().unwrap()["stemcells"][0]["version"], "3586.26");
}

#[test]
fn shape_errors_name_the_field() {
    let mut v = cfcr();
    v["instance_groups"][1]["instances"] = json!("three");
    let err = Manifest::from_value(&v).unwrap_err();
    let Error::Shape { path, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(path, "manifest.instance_groups[1].instances");
    let err = Manifest::from_value(&json!({"releases": []})).unwrap_err();
    assert!(err.to_string().contains("name"), "{err}");
}
