//! The Director tile's page as the browser reaches it: the UI's server functions under `/_app/`,
//! answered by the products service through the UI backend.

mod common;

use common::{browser, log_in, TestServer, ADMIN_PASSWORD, ADMIN_USER};
use serde_json::{json, Value};

async fn call(
    client: &reqwest::Client,
    server: &TestServer,
    endpoint: &str,
    form: &[(&str, String)],
) -> Value {
    let response = client
        .post(server.at(&format!("/_app/{endpoint}")))
        .form(form)
        .send()
        .await
        .expect("server function");
    let status = response.status();
    let text = response.text().await.expect("body");
    assert!(status.is_success(), "{endpoint}: {status} {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{endpoint}: {e}: {text}"))
}

/// A logged-in browser on the Director page's server functions.
struct Ui<'a> {
    client: reqwest::Client,
    server: &'a TestServer,
}

impl Ui<'_> {
    /// The page's data (`director`).
    async fn director(&self) -> Value {
        call(&self.client, self.server, "director", &[]).await
    }

    /// A section's save server function, from the version `page` was read at, with `fields`.
    async fn save(&self, endpoint: &str, page: &Value, fields: &[(&str, String)]) -> Value {
        let mut form = vec![("config_version", version(page))];
        form.extend(fields.iter().cloned());
        call(&self.client, self.server, endpoint, &form).await
    }
}

fn version(page: &Value) -> String {
    page["config_version"]
        .as_i64()
        .expect("config_version")
        .to_string()
}

#[tokio::test]
async fn the_director_is_configured_through_the_ui_server_functions() {
    let server = TestServer::start();
    let client = browser();
    log_in(&client, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    let ui = Ui {
        client,
        server: &server,
    };

    let page = ui.director().await;
    // A fresh Tileworks on its stand-in starts on the embedded IaaS, which asks for nothing.
    assert_eq!(page["iaas"], "embedded");
    assert_eq!(page["embedded_available"], true);
    assert!(page["problems"]["iaas_configuration.vcenter_host"].is_null());
    assert_eq!(page["vm_types_builtin"], true);
    assert_eq!(page["vm_types"].as_array().unwrap().len(), 20);
    assert!(
        page["cloud_config"]["Err"].is_object(),
        "{}",
        page["cloud_config"]
    );

    // IaaS essentials: the secret comes back redacted.
    let body = json!({"iaas_configuration": {
        "iaas": "vsphere", "vcenter_host": "vc.example.com", "vcenter_username": "admin",
        "vcenter_password": "vc-secret", "datacenter": "dc1",
        "persistent_datastore_names": "ds1", "ephemeral_datastore_names": "ds2"
    }});
    let saved = ui
        .save(
            "save_director_properties",
            &page,
            &[("body_json", body.to_string())],
        )
        .await;
    assert!(saved["Saved"]["config_version"].is_i64(), "{saved}");
    let page = ui.director().await;
    assert_eq!(page["iaas_configuration"]["vcenter_password"], "***");
    assert!(!page.to_string().contains("vc-secret"));

    // A bad NTP server is refused with the field's key and the service's words.
    let body = json!({"director_configuration": {"ntp_servers_string": "bad host"}});
    let refused = ui
        .save(
            "save_director_properties",
            &page,
            &[("body_json", body.to_string())],
        )
        .await;
    assert_eq!(
        refused["Invalid"]["errors"]["director_configuration.ntp_servers_string"][0],
        "'bad host' is not a host name or IP address"
    );
    let body = json!({"director_configuration": {"ntp_servers_string": "0.pool.ntp.org"}});
    ui.save(
        "save_director_properties",
        &page,
        &[("body_json", body.to_string())],
    )
    .await;
    // The page saves its two sections only; anything else is a bad request.
    let response = ui
        .client
        .post(server.at("/_app/save_director_properties"))
        .form(&[
            ("config_version", version(&page)),
            ("body_json", json!({"syslog_configuration": {}}).to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);

    // AZs on vSphere clusters.
    let page = ui.director().await;
    let azs = json!([
        {"name": "az1", "iaas_identifier": "", "clusters": [{"cluster": "c1", "resource_pool": "rp1"}], "other": {}},
        {"name": "az2", "iaas_identifier": "", "clusters": [{"cluster": "c2", "resource_pool": ""}], "other": {}}
    ]);
    let saved = ui
        .save("save_director_azs", &page, &[("azs_json", azs.to_string())])
        .await;
    assert!(saved["Saved"].is_object(), "{saved}");

    // A network whose subnet has a wrong CIDR is refused as a whole.
    let page = ui.director().await;
    assert_eq!(page["azs"][0]["clusters"][0]["resource_pool"], "rp1");
    let network = |cidr: &str| {
        json!([{"name": "infra", "subnets": [{
            "iaas_identifier": "VM Network", "cidr": cidr, "dns": "10.0.0.2", "gateway": "10.0.0.1",
            "reserved_ip_ranges": "10.0.0.1-10.0.0.10", "static_ip_ranges": "",
            "availability_zone_names": ["az1", "az2"]
        }]}])
    };
    let refused = ui
        .save(
            "save_director_networks",
            &page,
            &[
                ("networks_json", network("10.0.0.0-24").to_string()),
                ("icmp_checks_enabled", "false".into()),
            ],
        )
        .await;
    assert!(
        refused["Invalid"]["errors"]["networks[0].subnets[0].cidr"][0]
            .as_str()
            .unwrap()
            .contains("is not in CIDR notation"),
        "{refused}"
    );
    assert!(ui.director().await["networks"]
        .as_array()
        .unwrap()
        .is_empty());
    let saved = ui
        .save(
            "save_director_networks",
            &page,
            &[
                ("networks_json", network("10.0.0.0/24").to_string()),
                ("icmp_checks_enabled", "false".into()),
            ],
        )
        .await;
    assert!(saved["Saved"].is_object(), "{saved}");

    // A save from the older version is a conflict naming what changed.
    let stale = ui
        .save(
            "save_director_network_and_az",
            &page,
            &[("network", "infra".into()), ("singleton_az", "az1".into())],
        )
        .await;
    let message = stale["Conflict"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("networks"), "{stale}");

    let page = ui.director().await;
    let saved = ui
        .save(
            "save_director_network_and_az",
            &page,
            &[("network", "infra".into()), ("singleton_az", "az1".into())],
        )
        .await;
    assert!(saved["Saved"].is_object(), "{saved}");

    let page = ui.director().await;
    assert_eq!(page["problems"], json!({}), "{}", page["problems"]);
    assert_eq!(page["network"], "infra");
    let yaml = page["cloud_config"]["Ok"]
        .as_str()
        .expect("cloud config YAML");
    assert!(
        yaml.contains("name: az2") && yaml.contains("range: 10.0.0.0/24"),
        "{yaml}"
    );

    // Custom VM types, then the defaults again.
    let types = json!([{"name": "small", "cpu": 1, "ram": 2048, "ephemeral_disk": 8192}]);
    let saved = ui
        .save(
            "save_director_vm_types",
            &page,
            &[("vm_types_json", types.to_string())],
        )
        .await;
    assert!(saved["Saved"].is_object(), "{saved}");
    let page = ui.director().await;
    assert_eq!(page["vm_types_builtin"], false);
    assert_eq!(page["vm_types"].as_array().unwrap().len(), 1);
    ui.save(
        "save_director_vm_types",
        &page,
        &[("vm_types_json", "null".into())],
    )
    .await;
    let page = ui.director().await;
    assert_eq!(page["vm_types_builtin"], true);

    // Disk types: a zero size is refused under its row.
    let refused = ui
        .save(
            "save_director_disk_types",
            &page,
            &[("disk_types_json", json!([{"disk_size": 0}]).to_string())],
        )
        .await;
    assert_eq!(
        refused["Invalid"]["errors"]["disk_types[0].disk_size"][0],
        "must be greater than 0"
    );
}
