//! Cluster benchmarks (issue 10), against the real binary and its embedded Director stand-in,
//! with PKS deployed through Apply Changes exactly as the integration tests do it (their
//! `tests/common` and `tests/support` are compiled in):
//!
//! Clusters have one master and one worker (the services network of the test configuration is
//! a /24).
//!
//! 1. `provision`: zero VM latency; `CLUSTERS` (100) clusters provisioned through the OSB API,
//!    `CONCURRENCY` (10) requests at a time. Reports the total, the wall time per cluster, the
//!    provision request's latency (`PUT` until `202`: checks, the service adapter's manifest,
//!    the records, the deploy task handed to the Director), and how the broker's
//!    `Server-Timing` splits it: the broker's own time per cluster, and the time it waited
//!    for the Director's answers.
//! 2. `upgrade`: `LATENCY_MS` (200) ms per simulated VM call; the clusters provisioned, the
//!    plan's worker VM type changed and applied (upgrade errand off), then `POST
//!    /pks/v1/upgrade-clusters` with `max_in_flight` 1, and again (another VM type) with 10,
//!    each timed from the request until the run says it ended. The stand-in runs with
//!    `--director-workers 20` so that its task workers do not cap the ten at five.
//!
//! 3. `list`: zero VM latency; `CLUSTERS` named clusters created through the PKS API (20 at a
//!    time) and settled, then `GET /pks/v1/clusters` (what `pks clusters` and the Clusters
//!    page show: each cluster's master IPs, last action, whether it is behind its plan) timed
//!    five times cold (after the instance looks, shared for 1.5 s, have gone stale) and five
//!    times warm.
//!
//! `PART=provision|upgrade|list|all` (all). Run through `scripts/bench-clusters.sh`.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use support::osb::*;
use support::pks::settled_cluster;
use support::*;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let part = std::env::var("PART").unwrap_or_else(|_| "all".into());
    let clusters = env_or("CLUSTERS", 100);
    if part == "all" || part == "provision" {
        runtime.block_on(provision(clusters, env_or("CONCURRENCY", 10)));
    }
    if part == "all" || part == "upgrade" {
        runtime.block_on(upgrade(clusters, env_or("LATENCY_MS", 200)));
    }
    if part == "all" || part == "list" {
        runtime.block_on(list(clusters));
    }
}

async fn list(n: usize) {
    let server = TestServer::start_with(&["--director-vm-create-ms", "0"], Some(ADMIN_PASSWORD));
    let api = Api::login(&server).await;
    deploy_pks_for_broker(&api, QUOTAS).await;
    // Created 20 at a time, each followed until settled.
    futures_util::stream::iter(0..n)
        .map(|i| {
            let api = &api;
            async move {
                let name = format!("list-{i:04}");
                api.post(
                    "/pks/v1/clusters",
                    json!({"name": name, "plan_name": "small",
                           "parameters": {"kubernetes_master_host": format!("{name}.example.com"),
                                          "kubernetes_worker_instances": 1}}),
                )
                .await
                .expect(202);
                let cluster = settled_cluster(api, &name).await;
                assert_eq!(cluster["last_action_state"], "succeeded", "{cluster:#}");
            }
        })
        .buffer_unordered(20)
        .collect::<Vec<()>>()
        .await;
    for (label, pause) in [
        ("cold", Duration::from_millis(1600)),
        ("warm", Duration::ZERO),
    ] {
        let mut took = Vec::new();
        for _ in 0..5 {
            tokio::time::sleep(pause).await;
            let started = Instant::now();
            let listed = api.ok(Method::GET, "/pks/v1/clusters", None).await;
            took.push(started.elapsed());
            let clusters = listed.as_array().unwrap();
            assert_eq!(clusters.len(), n);
            assert!(clusters.iter().all(|c| c["kubernetes_master_ips"]
                .as_array()
                .is_some_and(|ips| !ips.is_empty())));
        }
        println!(
            "list: GET /pks/v1/clusters of {n} clusters, {label}: {}",
            stats(took.into_iter())
        );
    }
}

const QUOTAS: Quotas = Quotas {
    global: Some(1000),
    plan1: Some(1000),
};

/// One provision request: its latency from the client, and what the broker's `Server-Timing`
/// says of it — the broker's own work and the time it waited for the Director.
struct Sample {
    latency: Duration,
    own: Duration,
    director: Duration,
}

/// Provisions `n` clusters, `concurrency` at a time: (total, one sample per request).
async fn provision_many(
    osb: &Osb,
    plan: &str,
    n: usize,
    concurrency: usize,
) -> (Duration, Vec<Sample>) {
    let slots = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let (osb, plan, slots) = (osb.clone(), plan.to_owned(), slots.clone());
        tasks.spawn(async move {
            let _slot = slots.acquire_owned().await.unwrap();
            let id = format!("bench-{i:04}");
            let sent = Instant::now();
            // One worker: a master and a worker take two of the test network's ~245
            // addresses, so 100 clusters fit (three each would not).
            let r = osb
                .provision(&id, &plan, json!({"worker_instances": 1}))
                .await;
            let latency = sent.elapsed();
            assert_eq!(r.status, 202, "{:#}", r.body);
            let own = r.timing("broker").expect("the broker's Server-Timing");
            let director = r.timing("director").expect("the broker's Server-Timing");
            let operation = r.body["operation"].as_str().unwrap().to_owned();
            loop {
                let last = osb.last_operation(&id, &operation).await;
                assert_eq!(last.status, 200, "{:#}", last.body);
                match last.body["state"].as_str() {
                    Some("in progress") => tokio::time::sleep(Duration::from_millis(5)).await,
                    Some("succeeded") => break,
                    _ => panic!("{id}: {:#}", last.body),
                }
            }
            Sample {
                latency,
                own: Duration::from_secs_f64(own / 1000.0),
                director: Duration::from_secs_f64(director / 1000.0),
            }
        });
    }
    let mut samples = Vec::with_capacity(n);
    while let Some(done) = tasks.join_next().await {
        samples.push(done.unwrap());
    }
    (started.elapsed(), samples)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn provision(n: usize, concurrency: usize) {
    let server = TestServer::start_with(&["--director-vm-create-ms", "0"], Some(ADMIN_PASSWORD));
    let api = Api::login(&server).await;
    let guid = deploy_pks_for_broker(&api, QUOTAS).await;
    let osb = Osb::of(&api, &guid).await;
    let plan = osb.plan_id("small").await;
    let (total, samples) = provision_many(&osb, &plan, n, concurrency).await;
    println!(
        "provision: {n} clusters, {concurrency} at a time, zero VM latency: total {:.2} s, \
         {:.1} ms of wall time per cluster",
        total.as_secs_f64(),
        ms(total) / n as f64,
    );
    println!(
        "  request latency (PUT until 202, from the client): {}",
        stats(samples.iter().map(|s| s.latency))
    );
    println!(
        "  the broker's own time (Server-Timing broker): {}",
        stats(samples.iter().map(|s| s.own))
    );
    println!(
        "  waiting for the Director (Server-Timing director): {}",
        stats(samples.iter().map(|s| s.director))
    );
}

/// Mean, p50, p95 and max of some durations.
fn stats(durations: impl Iterator<Item = Duration>) -> String {
    let mut sorted: Vec<Duration> = durations.collect();
    sorted.sort();
    let mean = sorted.iter().map(|d| ms(*d)).sum::<f64>() / sorted.len().max(1) as f64;
    let at = |q: f64| ms(sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]);
    format!(
        "mean {mean:.1} ms, p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        at(0.5),
        at(0.95),
        at(1.0)
    )
}

async fn upgrade(n: usize, latency_ms: usize) {
    let latency = latency_ms.to_string();
    let server = TestServer::start_with(
        &[
            "--director-vm-create-ms",
            &latency,
            "--director-workers",
            "20",
        ],
        Some(ADMIN_PASSWORD),
    );
    let api = Api::login(&server).await;
    let guid = deploy_pks_for_broker(&api, QUOTAS).await;
    let osb = Osb::of(&api, &guid).await;
    let plan = osb.plan_id("small").await;
    let (total, _) = provision_many(&osb, &plan, n, 20).await;
    println!(
        "upgrade: {n} clusters provisioned with {latency_ms} ms per VM call in {:.1} s",
        total.as_secs_f64()
    );
    let mut times = Vec::new();
    for (max_in_flight, vm_type) in [(1u32, "large"), (10, "xlarge")] {
        api.put(
            &format!("/api/v0/staged/products/{guid}/properties"),
            json!({"properties": {".properties.plan1_selector.active.worker_vm_type": {"value": vm_type}}}),
        )
        .await
        .expect(200);
        apply_succeeds(
            &api,
            json!({"deploy_products": "all",
                   "errands": {guid.clone(): {"run_post_deploy": {"upgrade-all-service-instances": false}}}}),
        )
        .await;
        let started = Instant::now();
        let run = api
            .post(
                "/pks/v1/upgrade-clusters",
                json!({"max_in_flight": max_in_flight, "attempts": 1}),
            )
            .await
            .expect(202);
        let id = run["id"].as_u64().unwrap();
        let run: Value = loop {
            let run = api
                .ok(Method::GET, &format!("/pks/v1/fleet-runs/{id}"), None)
                .await;
            if run["state"] == "succeeded" || run["state"] == "failed" {
                break run;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let took = started.elapsed();
        assert_eq!(run["state"], "succeeded", "{run:#}");
        println!(
            "upgrade: upgrade-all of {n} clusters (worker VM type -> {vm_type}), max_in_flight \
             {max_in_flight}: {:.1} s ({:.0} ms per cluster)",
            took.as_secs_f64(),
            ms(took) / n as f64
        );
        times.push(took);
    }
    println!(
        "upgrade: max_in_flight 10 is {:.2}x as fast as max_in_flight 1",
        times[0].as_secs_f64() / times[1].as_secs_f64()
    );
}
