//! Tests of the service adapter as the broker uses it: plan shapes, parameters, carry-over,
//! idempotency, refusals, the golden manifest, bindings and schemas.

use serde_json::{json, Value};

use super::*;
use crate::Error;

/// A service deployment like the PKS tile's broker passes: every job the template places.
pub(crate) fn service_deployment() -> ServiceDeployment {
    serde_json::from_value(json!({
        "deployment_name": "service-instance_3f2a7c1e-5b8d-4e0f-9a61-7d2c4b9e8f10",
        "releases": [
            {"name": "kubo", "version": "0.18.0", "jobs": [
                "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet",
                "kube-proxy", "kubernetes-roles", "kubernetes-dependencies", "flanneld",
                "apply-specs", "smoke-tests", "kubo-dns-aliases", "cloud-provider"]},
            {"name": "cfcr-etcd", "version": "1.3.1", "jobs": ["etcd"]},
            {"name": "docker", "version": "32.0.1", "jobs": ["docker"]},
            {"name": "bpm", "version": "0.6.0", "jobs": ["bpm"]},
            {"name": "pks-nsx-t", "version": "0.21.1", "jobs": ["ncp", "nsx-pod-networking"]}
        ],
        "stemcells": [{"stemcell_os": "ubuntu-xenial", "stemcell_version": "97.17"}]
    }))
    .unwrap()
}

/// A plan shaped like the PKS tile's `plan2_snippet` output.
pub(crate) fn plan(masters: u64, workers: u64, max_workers: u64) -> Plan {
    serde_json::from_value(json!({
        "instance_groups": [
            {"name": "master", "vm_type": "large", "vm_extensions": [], "persistent_disk_type": "10240",
             "instances": masters, "networks": ["pks-services"], "azs": ["az1", "az2", "az3"]},
            {"name": "worker", "vm_type": "medium", "vm_extensions": ["public_ip"], "persistent_disk_type": "51200",
             "instances": workers, "networks": ["pks-services"], "azs": ["az1", "az2"]},
            {"name": "apply-addons", "vm_type": "micro", "instances": 1,
             "networks": ["pks-services"], "azs": ["az1"], "lifecycle": "errand"}
        ],
        "properties": {
            "max_worker_instances": max_workers,
            "allow_privileged_containers": false,
            "admission_plugins": ["PodSecurityPolicy", "SecurityContextDeny"],
            "kubelet_system_reserved": "memory=250Mi, cpu=150m",
            "kubelet_eviction_hard": "memory.available=100Mi, nodefs.available=10%, nodefs.inodesFree=5%",
            "kubelet_drain_timeout": 10,
            "kubelet_drain_grace_period": 30,
            "kubelet_drain_force": true,
            "kubelet_drain_ignore_daemonsets": true,
            "kubelet_drain_delete_local_data": true,
            "kubelet_drain_force_node": false,
            "cni": "flannel",
            "pod_network_cidr": "10.200.0.0/16",
            "service_cluster_cidr": "10.100.200.0/24"
        },
        "update": {"canaries": 1, "max_in_flight": 1, "canary_watch_time": "10000-300000",
                   "update_watch_time": "10000-300000", "serial": false}
    }))
    .unwrap()
}

pub(crate) fn input(plan: Plan, parameters: Value) -> GenerateManifestInput {
    GenerateManifestInput {
        service_deployment: service_deployment(),
        plan,
        request_parameters: if parameters.is_null() {
            Value::Null
        } else {
            json!({"service_id": "svc", "plan_id": "plan", "parameters": parameters})
        },
        previous_manifest: None,
        previous_plan: None,
    }
}

fn generate(plan: Plan, parameters: Value) -> GenerateManifestOutput {
    generate_manifest(&input(plan, parameters)).unwrap_or_else(|e| panic!("generate: {e}"))
}

fn group<'a>(manifest: &'a Value, name: &str) -> &'a Value {
    manifest["instance_groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == name)
        .unwrap_or_else(|| panic!("no instance group {name}"))
}

fn job<'a>(group: &'a Value, name: &str) -> &'a Value {
    group["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == name)
        .unwrap_or_else(|| panic!("no job {name}"))
}

fn san(manifest: &Value) -> Vec<String> {
    let v = manifest["variables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "tls-kubernetes")
        .unwrap();
    serde_json::from_value(v["options"]["alternative_names"].clone()).unwrap()
}

/// Asserts the field an `Error::Invalid` names.
fn refused(result: crate::Result<GenerateManifestOutput>, field: &str) -> String {
    match result {
        Err(Error::Invalid { field: f, message }) => {
            assert_eq!(f, field, "refused for the wrong field: {message}");
            message
        }
        Err(other) => panic!("expected Invalid({field}), got {other}"),
        Ok(_) => panic!("expected Invalid({field}), got a manifest"),
    }
}

/// The structural rules a deployable cluster manifest must meet, checked directly on the tree
/// (independently of `check_manifest`): unique instance groups, every job from a declared release
/// that provides it, the expected worker count and AZs, and the cluster's credentials declared.
fn assert_structure(m: &Value, plan: &Plan, workers: u64) {
    let sd = service_deployment();
    let groups = m["instance_groups"].as_array().unwrap();
    let names: Vec<&str> = groups.iter().map(|g| g["name"].as_str().unwrap()).collect();
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        names.len(),
        "instance group names repeat: {names:?}"
    );
    assert_eq!(names, ["master", "worker", "apply-addons", "smoke-tests"]);
    let declared: Vec<&str> = m["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    for g in groups {
        for j in g["jobs"].as_array().unwrap() {
            let release = j["release"].as_str().unwrap();
            assert!(
                declared.contains(&release),
                "{} uses undeclared {release}",
                j["name"]
            );
            let r = sd.releases.iter().find(|r| r.name == release).unwrap();
            assert!(
                r.jobs.iter().any(|x| j["name"] == x.as_str()),
                "{release} lacks {}",
                j["name"]
            );
        }
        assert_eq!(g["stemcell"], "default");
    }
    assert_eq!(group(m, "worker")["instances"], workers);
    for name in ["master", "worker"] {
        let from_plan = plan.instance_group(name).unwrap();
        assert_eq!(group(m, name)["azs"], json!(from_plan.azs));
        assert_eq!(group(m, name)["vm_type"], from_plan.vm_type.as_str());
        assert_eq!(
            group(m, name)["networks"][0]["name"],
            from_plan.networks[0].as_str()
        );
    }
    assert_eq!(
        group(m, "master")["instances"],
        plan.instance_group("master").unwrap().instances
    );
    assert_eq!(group(m, "apply-addons")["lifecycle"], "errand");
    assert_eq!(group(m, "smoke-tests")["lifecycle"], "errand");
    let variables: Vec<&str> = m["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    for needed in [
        "kubo_ca",
        "tls-kubernetes",
        "tls-kubelet",
        "tls-kubelet-client",
        "tls-etcd",
        "kubo-admin-password",
        "service-account-key",
    ] {
        assert!(variables.contains(&needed), "variable {needed} missing");
    }
    // etcd sits with the masters, as in PKS.
    job(group(m, "master"), "etcd");
    assert!(m["update"]["max_in_flight"].is_number());
    check_manifest(m, &sd).unwrap();
}

#[test]
fn one_three_and_five_masters() {
    for masters in [1, 3, 5] {
        let p = plan(masters, 3, 50);
        let out = generate(p.clone(), Value::Null);
        assert_structure(&out.manifest_value, &p, 3);
    }
    for masters in [2, 4] {
        refused(
            generate_manifest(&input(plan(masters, 3, 50), Value::Null)),
            "master_instances",
        );
    }
}

#[test]
fn worker_count_at_the_bounds_of_the_plan() {
    let p = plan(1, 3, 10);
    for (name, n) in [("worker_instances", 1), ("kubernetes_worker_instances", 10)] {
        let out = generate(p.clone(), json!({ name: n }));
        assert_structure(&out.manifest_value, &p, n);
    }
    let msg = refused(
        generate_manifest(&input(p.clone(), json!({"worker_instances": 11}))),
        "worker_instances",
    );
    assert!(msg.contains("at most 10"), "{msg}");
    refused(
        generate_manifest(&input(p.clone(), json!({"kubernetes_worker_instances": 0}))),
        "kubernetes_worker_instances",
    );
    // Without a request, the plan's own worker count.
    assert_eq!(
        group(&generate(p, Value::Null).manifest_value, "worker")["instances"],
        3
    );
}

#[test]
fn bad_parameters_are_refused_naming_the_parameter() {
    let p = plan(1, 3, 50);
    let cases = [
        (json!({"worker_instances": "3"}), "worker_instances"),
        (json!({"worker_instances": 2.5}), "worker_instances"),
        (json!({"worker_instances": -1}), "worker_instances"),
        (json!({"node_count": 3}), "node_count"),
        (
            json!({"kubernetes_master_host": "bad host.example.com"}),
            "kubernetes_master_host",
        ),
        (
            json!({"kubernetes_master_host": "https://k8s.example.com"}),
            "kubernetes_master_host",
        ),
        (
            json!({"external_hostname": "-k8s.example.com"}),
            "external_hostname",
        ),
        (
            json!({"external_hostname": "*.example.com"}),
            "external_hostname",
        ),
        (json!({"external_hostname": "10.0.0"}), "external_hostname"),
        (json!({"external_hostname": 42}), "external_hostname"),
        (
            json!({"kubernetes_master_port": 70000}),
            "kubernetes_master_port",
        ),
        (
            json!({"authorization_mode": "allow-all"}),
            "authorization_mode",
        ),
        // kubo 0.18.0 fixes the API port and the authorization mode.
        (
            json!({"kubernetes_master_port": 443}),
            "kubernetes_master_port",
        ),
        (json!({"authorization_mode": "abac"}), "authorization_mode"),
    ];
    for (params, field) in cases {
        refused(generate_manifest(&input(p.clone(), params)), field);
    }
    // Two spellings of one parameter must agree.
    refused(
        generate_manifest(&input(
            p.clone(),
            json!({"worker_instances": 2, "kubernetes_worker_instances": 3}),
        )),
        "kubernetes_worker_instances",
    );
    generate(
        p.clone(),
        json!({"worker_instances": 2, "kubernetes_worker_instances": 2}),
    );
    // `parameters` itself must be an object.
    let mut bad = input(p, Value::Null);
    bad.request_parameters = json!({"parameters": [1, 2]});
    refused(generate_manifest(&bad), "parameters");
}

#[test]
fn with_and_without_external_hostname() {
    let p = plan(3, 3, 50);
    let without = generate(p.clone(), Value::Null).manifest_value;
    assert_eq!(san(&without).len(), 6);
    assert!(san(&without).contains(&"10.100.200.1".to_owned()));

    let with = generate(
        p.clone(),
        json!({"kubernetes_master_host": "k8s.example.com"}),
    )
    .manifest_value;
    assert_eq!(san(&with).len(), 7);
    assert!(san(&with).contains(&"k8s.example.com".to_owned()));

    let ip = generate(
        p,
        json!({"external_hostname": "192.0.2.10", "kubernetes_master_port": 8443}),
    )
    .manifest_value;
    assert!(san(&ip).contains(&"192.0.2.10".to_owned()));
}

#[test]
fn previous_manifest_values_carry_over() {
    let p = plan(3, 3, 50);
    let created = generate(
        p.clone(),
        json!({"worker_instances": 7, "kubernetes_master_host": "k8s.example.com", "authorization_mode": "rbac"}),
    );

    // An update or upgrade without parameters keeps everything.
    let mut again = input(p.clone(), Value::Null);
    again.previous_manifest = Some(created.manifest.clone());
    again.previous_plan = Some(p.clone());
    let upgraded = generate_manifest(&again).unwrap();
    assert_eq!(upgraded.manifest, created.manifest);

    // A resize changes the count and keeps the hostname.
    let mut resize = input(p.clone(), json!({"kubernetes_worker_instances": 4}));
    resize.previous_manifest = Some(created.manifest.clone());
    let resized = generate_manifest(&resize).unwrap().manifest_value;
    assert_eq!(group(&resized, "worker")["instances"], 4);
    assert!(san(&resized).contains(&"k8s.example.com".to_owned()));

    // A manifest rendered for later kubo kept the hostname in kube-apiserver's `k8s-args`
    // (and perhaps another port): the hostname carries over, the port becomes kubo 0.18.0's.
    let older = json!({
        "instance_groups": [
            {"name": "worker", "instances": 5},
            {"name": "master", "jobs": [{"name": "kube-apiserver", "properties": {"k8s-args": {
                "external-hostname": "old.example.com", "secure-port": 443,
                "authorization-mode": "ABAC"}}}]}
        ]
    });
    let mut upgrade = input(p.clone(), Value::Null);
    upgrade.previous_manifest = Some(crate::yaml::to_yaml_string(&older));
    let upgraded = generate_manifest(&upgrade).unwrap().manifest_value;
    assert_eq!(group(&upgraded, "worker")["instances"], 5);
    assert!(san(&upgraded).contains(&"old.example.com".to_owned()));
}

#[test]
fn carried_worker_count_above_a_lowered_maximum() {
    let big = plan(3, 3, 50);
    let created = generate(big.clone(), json!({"worker_instances": 40}));
    let small = plan(3, 3, 10);

    // Same plan, maximum lowered by the operator: existing clusters keep upgrading.
    let mut same = input(small.clone(), Value::Null);
    same.previous_manifest = Some(created.manifest.clone());
    same.previous_plan = Some(small.clone());
    assert_eq!(
        group(&generate_manifest(&same).unwrap().manifest_value, "worker")["instances"],
        40
    );

    // Moving to a plan that allows fewer workers than the cluster has is refused.
    let mut change = input(small, Value::Null);
    change.previous_manifest = Some(created.manifest);
    change.previous_plan = Some(big);
    refused(generate_manifest(&change), "worker_instances");
}

#[test]
fn generation_is_idempotent() {
    let i = input(
        plan(5, 4, 50),
        json!({"kubernetes_master_host": "k8s.example.com"}),
    );
    let a = generate_manifest(&i).unwrap();
    let b = generate_manifest(&i).unwrap();
    assert_eq!(a, b);
    let mut from_itself = input(plan(5, 4, 50), Value::Null);
    from_itself.previous_manifest = Some(a.manifest.clone());
    assert_eq!(
        generate_manifest(&from_itself).unwrap().manifest,
        a.manifest
    );
}

#[test]
fn unreadable_previous_manifest_is_an_error() {
    let mut i = input(plan(1, 3, 50), Value::Null);
    i.previous_manifest = Some("name: [unclosed".into());
    assert!(matches!(generate_manifest(&i), Err(Error::Yaml { .. })));
}

#[test]
fn a_job_no_release_provides_stops_the_render() {
    let mut i = input(plan(1, 3, 50), Value::Null);
    i.service_deployment
        .releases
        .retain(|r| r.name != "cfcr-etcd");
    match generate_manifest(&i) {
        Err(Error::Render(m)) => assert!(m.contains("job `etcd`"), "{m}"),
        other => panic!("expected a render error, got {other:?}"),
    }
    let mut floating = input(plan(1, 3, 50), Value::Null);
    floating.service_deployment.releases[0].version = "latest".into();
    refused(generate_manifest(&floating), "service_deployment.releases");
}

#[test]
fn plan_without_required_groups_is_refused() {
    let mut p = plan(1, 3, 50);
    p.instance_groups.retain(|g| g.name != "worker");
    refused(
        generate_manifest(&input(p, Value::Null)),
        "plan.instance_groups",
    );
    let mut p = plan(1, 3, 50);
    p.instance_groups[0].azs.clear();
    refused(
        generate_manifest(&input(p, Value::Null)),
        "plan.instance_groups.master",
    );
}

#[test]
fn plan_without_errand_group_uses_a_worker_sized_vm() {
    let mut p = plan(1, 2, 50);
    p.instance_groups.retain(|g| g.name != "apply-addons");
    p.update = None;
    let m = generate(p, Value::Null).manifest_value;
    let errand = group(&m, "apply-addons");
    assert_eq!(errand["vm_type"], "medium");
    assert_eq!(errand["instances"], 1);
    assert!(errand.get("persistent_disk_type").is_none());
    assert_eq!(m["update"]["canary_watch_time"], "10000-300000");
}

#[test]
fn nsx_t_and_cloud_provider_change_the_jobs() {
    let mut p = plan(1, 2, 50);
    p.properties.insert("cni".into(), json!("nsx-t"));
    p.properties.insert(
        "cloud_provider".into(),
        json!({"type": "vsphere", "cloud_config": {"Global": {"datacenter": "dc1"}}}),
    );
    let m = generate(p, Value::Null).manifest_value;
    let master = group(&m, "master");
    job(master, "ncp");
    assert!(master["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|j| j["name"] != "flanneld"));
    job(group(&m, "worker"), "nsx-pod-networking");
    assert_eq!(
        job(group(&m, "worker"), "docker")["properties"]["flannel"],
        false
    );
    let cp = job(master, "cloud-provider");
    assert_eq!(
        cp["properties"]["cloud-provider"],
        json!({"type": "vsphere", "vsphere": {"datacenter": "dc1"}})
    );
    assert_eq!(
        job(group(&m, "worker"), "kubelet")["properties"]["cloud-provider"],
        "vsphere"
    );
    assert_eq!(
        job(master, "kube-apiserver")["consumes"]["cloud-provider"]["from"],
        "master-cloud-provider"
    );
    assert_eq!(
        job(group(&m, "worker"), "kubelet")["consumes"]["cloud-provider"]["from"],
        "worker-cloud-provider"
    );
}

#[test]
fn addons_spec_is_passed_as_text() {
    let mut p = plan(1, 2, 50);
    let spec = "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: \"team: a\"\n";
    p.properties.insert("addons_spec".into(), json!(spec));
    let m = generate(p, Value::Null).manifest_value;
    assert_eq!(
        job(group(&m, "apply-addons"), "apply-specs")["properties"]["addons-spec"],
        spec
    );
}

#[test]
fn check_manifest_reports_what_the_director_would_refuse() {
    let sd = service_deployment();
    let mut m = generate(plan(1, 2, 50), Value::Null).manifest_value;
    check_manifest(&m, &sd).unwrap();
    let groups = m["instance_groups"].as_array_mut().unwrap();
    let mut copy = groups[0].clone();
    copy["name"] = json!("Master");
    groups.push(copy);
    groups[1]["jobs"][0]["release"] = json!("nope");
    m["instance_groups"][0]["jobs"][2]["properties"]["extra"] = json!("((undeclared.certificate))");
    m["networks"] = json!([]);
    let problems = check_manifest(&m, &sd).unwrap_err();
    let all = problems.join("\n");
    assert!(all.contains("duplicate instance group"), "{all}");
    assert!(all.contains("release \"nope\""), "{all}");
    assert!(all.contains("variable undeclared"), "{all}");
    assert!(
        all.contains("`networks` belongs in a cloud config"),
        "{all}"
    );
}

/// The expected manifest for a realistic plan (3 masters over 3 AZs, 3 workers, external
/// hostname), compared byte for byte. After an intended change to the template or the adapter,
/// regenerate it with `UPDATE_GOLDEN=1 cargo test -p tiles golden` and review the diff.
#[test]
fn golden_manifest() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/products/pks/testdata/cluster-manifest.golden.yml"
    );
    let out = generate(
        plan(3, 3, 50),
        json!({"kubernetes_master_host": "k8s.example.com"}),
    );
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, &out.manifest).unwrap();
    }
    let expected =
        std::fs::read_to_string(path).expect("golden file (create it with UPDATE_GOLDEN=1)");
    assert!(
        out.manifest == expected,
        "manifest differs from {path}; rerun with UPDATE_GOLDEN=1 and review the diff"
    );
}

fn secrets() -> serde_json::Map<String, Value> {
    json!({
        "((tls-kubernetes.ca))": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        "((kubo-admin-password))": "s3cret-token",
    })
    .as_object()
    .cloned()
    .unwrap()
}

#[test]
fn binding_gives_a_kubeconfig_for_the_external_hostname() {
    let out = generate(
        plan(1, 2, 50),
        json!({"kubernetes_master_host": "k8s.example.com"}),
    );
    let req = BindingRequest {
        binding_id: "b1".into(),
        manifest: out.manifest,
        bosh_vms: [("master".to_owned(), vec!["10.0.0.5".to_owned()])].into(),
        secrets: secrets(),
    };
    let b = create_binding(&req).unwrap();
    let kc = &b["credentials"]["kubeconfig"];
    assert_eq!(
        kc["clusters"][0]["cluster"]["server"],
        "https://k8s.example.com:8443"
    );
    assert_eq!(
        kc["clusters"][0]["name"],
        "3f2a7c1e-5b8d-4e0f-9a61-7d2c4b9e8f10"
    );
    assert_eq!(kc["users"][0]["user"]["token"], "s3cret-token");
    assert_eq!(
        kc["clusters"][0]["cluster"]["certificate-authority-data"],
        "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="
    );
    assert_eq!(kc["current-context"], kc["contexts"][0]["name"]);
}

#[test]
fn binding_without_hostname_uses_the_master_address() {
    let out = generate(plan(1, 2, 50), Value::Null);
    let mut req = BindingRequest {
        binding_id: "b2".into(),
        manifest: out.manifest.clone(),
        bosh_vms: [("master".to_owned(), vec!["10.0.0.5".to_owned()])].into(),
        secrets: json!({"kubo_ca": {"certificate": "CA"}, "kubo-admin-password": "t"})
            .as_object()
            .cloned()
            .unwrap(),
    };
    let b = create_binding(&req).unwrap();
    assert_eq!(
        b["credentials"]["kubeconfig"]["clusters"][0]["cluster"]["server"],
        "https://10.0.0.5:8443"
    );
    req.secrets.remove("kubo-admin-password");
    assert!(
        matches!(create_binding(&req), Err(Error::Invalid { ref field, .. }) if field == "secrets")
    );
    req.bosh_vms.clear();
    assert!(
        matches!(create_binding(&req), Err(Error::Invalid { ref field, .. }) if field == "bosh_vms")
    );
    assert_eq!(dashboard_url(&out.manifest).unwrap(), None);
    let named = generate(
        plan(1, 2, 50),
        json!({"external_hostname": "k.example.com"}),
    );
    assert_eq!(
        dashboard_url(&named.manifest).unwrap().as_deref(),
        Some("https://k.example.com:8443")
    );
}

#[test]
fn plan_schemas_follow_the_accepted_parameters() {
    let s = plan_schemas(&plan(1, 2, 12)).unwrap();
    let create = &s["service_instance"]["create"]["parameters"];
    assert_eq!(create["additionalProperties"], false);
    assert_eq!(
        create["properties"]["kubernetes_worker_instances"]["maximum"],
        12
    );
    for name in accepted_names() {
        assert!(
            create["properties"][name].is_object(),
            "{name} missing from the schema"
        );
        assert_ne!(
            create["properties"][name],
            json!({}),
            "{name} has no schema"
        );
    }
    assert_eq!(
        s["service_instance"]["update"],
        s["service_instance"]["create"]
    );
    assert!(s["service_binding"]["create"]["parameters"].is_object());
    let mut bad = plan(1, 2, 12);
    bad.properties
        .insert("max_worker_instances".into(), json!(0));
    assert!(plan_schemas(&bad).is_err());
}

#[test]
fn host_rule() {
    for ok in ["k8s.example.com", "api", "a-b.c", "10.0.0.1"] {
        assert!(check_host(ok).is_ok(), "{ok}");
    }
    let long_label = "a".repeat(64);
    for bad in [
        "",
        "a..b",
        "a_b.com",
        "a.-b",
        "1.2.3",
        long_label.as_str(),
        "k8s.example.com:8443",
    ] {
        assert!(check_host(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_bundled_template_compiled_once_renders_as_a_fresh_compile() {
    // Any text other than the bundled one is compiled per call; this copy renders the same.
    let copy = format!("{}\n", crate::products::PKS_CLUSTER_MANIFEST_TEMPLATE);
    for i in [
        input(plan(1, 3, 50), Value::Null),
        input(
            plan(3, 5, 50),
            json!({"kubernetes_master_host": "k8s.example.com"}),
        ),
    ] {
        let first = generate_manifest(&i).unwrap();
        let again = generate_manifest(&i).unwrap();
        assert_eq!(first, again);
        let fresh = generate_manifest_with(&copy, &i).unwrap();
        assert_eq!(first.manifest_value, fresh.manifest_value);
    }
    // `release_for` answers from each call's own service deployment, not an earlier call's.
    let mut renamed = input(plan(1, 3, 50), Value::Null);
    renamed.service_deployment.releases[1].name = "etcd-renamed".into();
    let m = generate_manifest(&renamed).unwrap().manifest_value;
    assert_eq!(job(group(&m, "master"), "etcd")["release"], "etcd-renamed");
}

#[test]
fn an_edited_template_is_used_and_its_errors_reported() {
    let i = input(plan(1, 3, 50), Value::Null);
    match generate_manifest_with("name: {{ deployment_name", &i) {
        Err(Error::Render(m)) => assert!(m.contains("cluster-manifest.yml"), "{m}"),
        other => panic!("expected a render error, got {other:?}"),
    }
    // The bundled template is unaffected by the failed edit.
    assert!(generate_manifest(&i).is_ok());
}

#[test]
fn plan_settings_kubo_0_18_cannot_carry_are_warnings_not_properties() {
    // The test plan sets a drain timeout and grace period and PodSecurityPolicy, none of which
    // kubo 0.18.0 can carry; SecurityContextDeny it has (privileged containers are off).
    let out = generate(plan(1, 1, 50), Value::Null);
    let fields: Vec<&str> = out
        .warnings
        .iter()
        .map(|w| w.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "admission_plugins",
            "kubelet_drain_timeout",
            "kubelet_drain_grace_period"
        ],
        "{:#?}",
        out.warnings
    );
    let kubelet = job(group(&out.manifest_value, "worker"), "kubelet");
    assert_eq!(
        kubelet["properties"]["system-reserved"],
        "memory=250Mi,cpu=150m"
    );
    assert!(!out.manifest.contains("drain-timeout") && !out.manifest.contains("grace"));
}
