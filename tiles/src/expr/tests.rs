//! Tests of the expression language: grammar, every accessor form, evaluation, substitution and
//! the expressions of the real tiles in the shared fixtures.

use super::*;
use serde_json::{json, Value};
use std::collections::HashMap;

fn r(src: &str) -> Reference {
    match parse(src).unwrap_or_else(|e| panic!("{src}: {e}")) {
        Expr::Ref(r) => r,
        other => panic!("{src}: not a reference: {other:?}"),
    }
}

fn prop(product: Option<&str>, owner: Owner, path: &[&str], accessor: Accessor) -> Reference {
    Reference::Property(PropertyRef {
        product: product.map(str::to_string),
        owner,
        path: path.iter().map(|s| s.to_string()).collect(),
        accessor,
    })
}

fn parse_err(src: &str) -> String {
    match parse(src) {
        Err(Error::Expr { message, .. }) => message,
        other => panic!("{src}: expected an error, got {other:?}"),
    }
}

/// A resolver backed by a table keyed by the canonical text of each reference.
struct Table(HashMap<String, Value>);

impl Table {
    fn new(entries: &[(&str, Value)]) -> Table {
        Table(
            entries
                .iter()
                .map(|(k, v)| (r(k).to_string(), v.clone()))
                .collect(),
        )
    }
}

impl Resolver for Table {
    fn resolve(&self, reference: &Reference) -> Result<Option<Value>> {
        Ok(self.0.get(&reference.to_string()).cloned())
    }
}

fn table() -> Table {
    Table::new(&[
        (".properties.x.value", json!("hello")),
        (".properties.unset.value", Value::Null),
        (".properties.empty.value", json!("")),
        (".properties.flag.value", json!(true)),
        (".properties.off.value", json!(false)),
        (".properties.list.value", json!(["a", "b"])),
        (".properties.none.value", json!([])),
        (".properties.port.value", json!(8443)),
        (".properties.creds.identity", json!("admin")),
        (".properties.creds.password", json!("s3cret")),
        (
            ".properties.tls.selected_option.parsed_manifest(block)",
            json!({"enabled": true, "port": 443}),
        ),
        ("$director.hostname", Value::Null),
        ("$director.deployment_ip", json!("10.0.0.5")),
        ("instances", json!(3)),
        ("example_string.value", json!("World")),
    ])
}

fn eval_str(src: &str) -> Result<Value> {
    evaluate(&parse(src)?, &table(), "test")
}

// ---- grammar -------------------------------------------------------------------------------

#[test]
fn global_property_with_every_accessor() {
    for (name, acc) in [
        ("value", Accessor::Value),
        ("value_present?", Accessor::ValuePresent),
        ("identity", Accessor::Identity),
        ("password", Accessor::Password),
        ("salt", Accessor::Salt),
        ("sha512_hashed_password", Accessor::Sha512HashedPassword),
        ("cert_pem", Accessor::CertPem),
        ("private_key_pem", Accessor::PrivateKeyPem),
        ("public_key_pem", Accessor::PublicKeyPem),
        ("cert_and_private_key_pems", Accessor::CertAndPrivateKeyPems),
        ("public_key_openssh", Accessor::PublicKeyOpenssh),
        ("public_key_fingerprint", Accessor::PublicKeyFingerprint),
        ("parsed_strings", Accessor::ParsedStrings),
        ("parsed_regex", Accessor::ParsedRegex),
        ("parsed_ip_ranges", Accessor::ParsedIpRanges),
        ("parsed_network_addresses", Accessor::ParsedNetworkAddresses),
        ("to_wildcard", Accessor::ToWildcard),
        ("selected_option", Accessor::SelectedOption),
        ("os", Accessor::Os),
        ("version", Accessor::Version),
        ("assigned?", Accessor::Assigned),
    ] {
        let src = format!(".properties.p.{name}");
        assert_eq!(r(&src), prop(None, Owner::Global, &["p"], acc), "{src}");
        assert_eq!(r(&src).to_string(), src);
    }
}

#[test]
fn unknown_accessor_is_kept_as_other() {
    let reference = r(".properties.p.brand_new");
    assert_eq!(
        reference,
        prop(
            None,
            Owner::Global,
            &["p"],
            Accessor::Other("brand_new".into())
        )
    );
    let Reference::Property(p) = reference else {
        unreachable!()
    };
    assert!(!p.accessor.is_known());
}

#[test]
fn selector_sub_property_and_parsed_manifests() {
    assert_eq!(
        r(".properties.network_selector.nsx.t0-router-id.value"),
        prop(
            None,
            Owner::Global,
            &["network_selector", "nsx", "t0-router-id"],
            Accessor::Value
        )
    );
    assert_eq!(
        r(".properties.sel.selected_option.parsed_manifest(my_snippet)"),
        prop(
            None,
            Owner::Global,
            &["sel"],
            Accessor::SelectedOptionManifest("my_snippet".into())
        )
    );
    assert_eq!(
        r(".properties.coll.parsed_manifest( for_routing )"),
        prop(
            None,
            Owner::Global,
            &["coll"],
            Accessor::ParsedManifest("for_routing".into())
        )
    );
}

#[test]
fn job_level_bare_and_record_properties() {
    assert_eq!(
        r(".web_server.example_port.value"),
        prop(
            None,
            Owner::Job("web_server".into()),
            &["example_port"],
            Accessor::Value
        )
    );
    assert_eq!(
        r(".pivotal-container-service.pks_tls.cert_pem"),
        prop(
            None,
            Owner::Job("pivotal-container-service".into()),
            &["pks_tls"],
            Accessor::CertPem
        )
    );
    assert_eq!(
        r("my_cert.cert_pem"),
        prop(None, Owner::CurrentJob, &["my_cert"], Accessor::CertPem)
    );
    assert_eq!(
        r("current_record.example_cert.private_key_pem"),
        prop(
            None,
            Owner::CurrentRecord,
            &["example_cert"],
            Accessor::PrivateKeyPem
        )
    );
}

#[test]
fn other_product_references() {
    assert_eq!(
        r("..cf.cloud_controller.system_domain.value"),
        prop(
            Some("cf"),
            Owner::Job("cloud_controller".into()),
            &["system_domain"],
            Accessor::Value
        )
    );
    assert_eq!(
        r("..cf.properties.x.value"),
        prop(Some("cf"), Owner::Global, &["x"], Accessor::Value)
    );
    assert_eq!(
        r("..pivotal-container-service.deployment_name"),
        Reference::Product {
            product: Some("pivotal-container-service".into()),
            field: ProductField::DeploymentName
        }
    );
    assert_eq!(
        r("..p-redis.present?"),
        Reference::Product {
            product: Some("p-redis".into()),
            field: ProductField::Present
        }
    );
    assert_eq!(
        r("..cf.router.ips"),
        Reference::Job {
            product: Some("cf".into()),
            job: Some("router".into()),
            field: JobField::Ips
        }
    );
    assert_eq!(
        r("..cf.router.name").to_string(),
        "..cf.router.name".to_string()
    );
}

#[test]
fn own_product_fields() {
    assert_eq!(
        r(".deployment_name"),
        Reference::Product {
            product: None,
            field: ProductField::DeploymentName
        }
    );
    assert_eq!(
        r(".network_name"),
        Reference::Product {
            product: None,
            field: ProductField::NetworkName
        }
    );
}

#[test]
fn job_accessors_bare_and_qualified() {
    for field in JobField::ALL {
        assert_eq!(
            r(field.name()),
            Reference::Job {
                product: None,
                job: None,
                field
            }
        );
        let q = format!(".router.{}", field.name());
        assert_eq!(
            r(&q),
            Reference::Job {
                product: None,
                job: Some("router".into()),
                field
            }
        );
        assert_eq!(r(&q).to_string(), q);
    }
}

#[test]
fn dollar_contexts() {
    for ctx in Context::ALL {
        for acc in ctx.accessors() {
            let src = format!("${}.{acc}", ctx.name());
            assert_eq!(
                r(&src),
                Reference::Context {
                    context: ctx,
                    path: vec![acc.to_string()]
                }
            );
        }
    }
    assert_eq!(
        r("$ops_manager.restricted_view_api_access_credentials.uaa_client_name"),
        Reference::Context {
            context: Context::OpsManager,
            path: vec![
                "restricted_view_api_access_credentials".into(),
                "uaa_client_name".into()
            ]
        }
    );
}

#[test]
fn literals() {
    assert_eq!(
        parse("'single'").unwrap(),
        Expr::Literal(Literal::Str("single".into()))
    );
    assert_eq!(
        parse("\"double\"").unwrap(),
        Expr::Literal(Literal::Str("double".into()))
    );
    assert_eq!(parse("true").unwrap(), Expr::Literal(Literal::Bool(true)));
    assert_eq!(parse("false").unwrap(), Expr::Literal(Literal::Bool(false)));
    assert_eq!(parse("443").unwrap(), Expr::Literal(Literal::Int(443)));
    assert_eq!(parse("[]").unwrap(), Expr::List(vec![]));
    assert_eq!(parse("[ ]").unwrap(), Expr::List(vec![]));
    assert_eq!(
        parse("['a', 1]").unwrap(),
        Expr::List(vec![
            Expr::Literal(Literal::Str("a".into())),
            Expr::Literal(Literal::Int(1))
        ])
    );
    // A quoted BOSH placeholder inside an expression is just a string.
    assert_eq!(
        parse("'((/services/tls_ca.certificate))'").unwrap(),
        Expr::Literal(Literal::Str("((/services/tls_ca.certificate))".into()))
    );
}

#[test]
fn or_chain_and_ternary_precedence() {
    let e = parse("a.value || b.value || 'x'").unwrap();
    assert!(matches!(&e, Expr::Or(items) if items.len() == 3));
    let e = parse("c.value ? a.value || 'd' : 'e'").unwrap();
    let Expr::Ternary { then, .. } = &e else {
        panic!("{e:?}")
    };
    assert!(matches!(**then, Expr::Or(_)));
    // Right-associative: a ? b : c ? d : e
    let e = parse("a.value ? 'b' : c.value ? 'd' : 'e'").unwrap();
    let Expr::Ternary { otherwise, .. } = &e else {
        panic!("{e:?}")
    };
    assert!(matches!(**otherwise, Expr::Ternary { .. }));
}

#[test]
fn parentheses_group() {
    let e = parse("(a.value || b.value) ? 'yes' : 'no'").unwrap();
    let Expr::Ternary { cond, .. } = &e else {
        panic!("{e:?}")
    };
    assert!(matches!(**cond, Expr::Or(_)));
    assert_eq!(parse("((('x')))").unwrap(), parse("'x'").unwrap());
}

#[test]
fn question_mark_glued_to_a_name() {
    // `value_present?` followed by the ternary operator, with and without a space after `?`.
    let e =
        parse(".properties.g.value_present? ? \"groups-map-to-scopes\": \"no-groups\"").unwrap();
    let Expr::Ternary { cond, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(
        **cond,
        Expr::Ref(prop(None, Owner::Global, &["g"], Accessor::ValuePresent))
    );
    let e = parse("flag.value? 'on' : 'off'").unwrap();
    let Expr::Ternary { cond, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(
        **cond,
        Expr::Ref(prop(None, Owner::CurrentJob, &["flag"], Accessor::Value))
    );
    assert_eq!(
        r("x.value_present?"),
        prop(None, Owner::CurrentJob, &["x"], Accessor::ValuePresent)
    );
}

#[test]
fn display_round_trips() {
    for src in [
        ".properties.a.value || 'x' || []",
        "a.value ? 'b' : c.value ? 'd' : 'e'",
        "(a.value ? b.value : c.value) ? 'x' : 'y'",
        "(a.value || b.value) || c.value",
        "\"it's\"",
        "[1, -2, 1.5, true]",
        "$director.hostname || $director.deployment_ip",
        "..cf.present? ? ..cf.deployment_name : .deployment_name",
    ] {
        let e = parse(src).unwrap();
        assert_eq!(parse(&e.to_string()).unwrap(), e, "{src} → {e}");
    }
}

#[test]
fn syntax_errors_are_precise() {
    assert!(parse_err("").contains("empty"));
    assert!(parse_err("a.value ||").contains("end of the expression"));
    assert!(parse_err("a.value ? 'x'").contains("`:`"));
    assert!(parse_err("a.value == 'x'").contains("`=`"));
    assert!(parse_err("a.value && b.value").contains("`&`"));
    assert!(parse_err("'open").contains("unterminated"));
    assert!(parse_err("(a.value").contains("unclosed `(`"));
    assert!(parse_err("[1, 2").contains("unclosed `[`"));
    assert!(parse_err("a.value b.value").contains("expected the end"));
    assert!(parse_err("a.value)").contains("unmatched `)`"));
    assert!(parse_err("$nowhere.x").contains("unknown context"));
    assert!(parse_err("$director").contains("needs an accessor"));
    assert!(parse_err("foo").contains("neither a job accessor"));
    assert!(parse_err(".properties.x").contains("names no property"));
    assert!(parse_err(".web_server.example").contains("neither a job accessor"));
    assert!(parse_err(".nonsense").contains("not a product field"));
    assert!(parse_err("a.value.").contains("after `.`"));
    assert!(parse_err("a.size(3)").contains("not a function"));
    assert!(parse_err(".properties.a(1).value").contains("not a function"));
    let msg = parse_err("a.value | b.value");
    assert!(msg.contains("`||`") && msg.contains("column 9"), "{msg}");
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let src = format!("{}'x'{}", "(".repeat(500), ")".repeat(500));
    assert!(parse_err(&src).contains("nested too deeply"));
}

// ---- evaluation ----------------------------------------------------------------------------

#[test]
fn evaluates_references_and_literals() {
    assert_eq!(eval_str(".properties.x.value").unwrap(), json!("hello"));
    assert_eq!(eval_str(".properties.port.value").unwrap(), json!(8443));
    assert_eq!(eval_str("instances").unwrap(), json!(3));
    assert_eq!(eval_str("'lit'").unwrap(), json!("lit"));
    assert_eq!(eval_str("1.5").unwrap(), json!(1.5));
    assert_eq!(eval_str("[]").unwrap(), json!([]));
    assert_eq!(
        eval_str(".properties.tls.selected_option.parsed_manifest(block)").unwrap(),
        json!({"enabled": true, "port": 443})
    );
}

#[test]
fn or_takes_the_first_present_operand() {
    assert_eq!(
        eval_str(".properties.unset.value || 'dflt'").unwrap(),
        json!("dflt")
    );
    assert_eq!(
        eval_str(".properties.empty.value || .properties.x.value").unwrap(),
        json!("hello")
    );
    assert_eq!(
        eval_str(".properties.none.value || ['z']").unwrap(),
        json!(["z"])
    );
    assert_eq!(
        eval_str(".properties.list.value || []").unwrap(),
        json!(["a", "b"])
    );
    assert_eq!(
        eval_str("false || .properties.creds.password").unwrap(),
        json!("s3cret")
    );
    assert_eq!(
        eval_str("$director.hostname || $director.deployment_ip").unwrap(),
        json!("10.0.0.5")
    );
    // All absent: the last operand's value.
    assert_eq!(
        eval_str(".properties.unset.value || .properties.empty.value").unwrap(),
        json!("")
    );
    // Lazy: the unknown right operand is never resolved.
    assert_eq!(
        eval_str(".properties.x.value || .properties.nowhere.value").unwrap(),
        json!("hello")
    );
}

#[test]
fn ternary_picks_a_branch_lazily() {
    assert_eq!(
        eval_str(".properties.flag.value ? 'on' : .properties.nowhere.value").unwrap(),
        json!("on")
    );
    assert_eq!(
        eval_str(".properties.off.value ? .properties.nowhere.value : 'off'").unwrap(),
        json!("off")
    );
    assert_eq!(
        eval_str(".properties.unset.value ? 1 : 2").unwrap(),
        json!(2)
    );
    assert_eq!(eval_str("false ? true : false").unwrap(), json!(false));
}

#[test]
fn presence_rules() {
    for (v, present) in [
        (Value::Null, false),
        (json!(false), false),
        (json!(""), false),
        (json!([]), false),
        (json!({}), false),
        (json!(0), true),
        (json!(true), true),
        (json!("x"), true),
        (json!([1]), true),
    ] {
        assert_eq!(is_present(&v), present, "{v}");
    }
}

#[test]
fn unknown_reference_names_expression_and_path() {
    let e = parse(".properties.x.value || .properties.nope.value").unwrap();
    let t = Table::new(&[(".properties.x.value", Value::Null)]);
    let err = evaluate(&e, &t, "job_types[2].manifest.properties.x").unwrap_err();
    assert_eq!(
        err,
        Error::Expr {
            expr: ".properties.x.value || .properties.nope.value".into(),
            at: "job_types[2].manifest.properties.x".into(),
            message: "unknown reference `.properties.nope.value`".into()
        }
    );
    assert!(err
        .to_string()
        .contains("job_types[2].manifest.properties.x"));
}

#[test]
fn resolver_errors_pass_through() {
    let failing = |_: &Reference| -> Result<Option<Value>> { Err(Error::Render("boom".into())) };
    let err = evaluate(&parse("a.value").unwrap(), &failing, "x").unwrap_err();
    assert_eq!(err, Error::Render("boom".into()));
}

#[test]
fn references_lists_every_operand() {
    let e = parse("a.value ? ..cf.x.y.value : ($director.tld || [instances])").unwrap();
    let refs: Vec<String> = references(&e).iter().map(|r| r.to_string()).collect();
    assert_eq!(
        refs,
        vec!["a.value", "..cf.x.y.value", "$director.tld", "instances"]
    );
}

// ---- templates and substitution ------------------------------------------------------------

#[test]
fn template_forms() {
    let t = Template::parse(
        "a (( .properties.x.value )) b ((( cred.password ))) c ((bosh-var.ca)) d ((/abs/x))",
        "p",
    )
    .unwrap();
    assert_eq!(t.pieces.len(), 8);
    assert!(matches!(&t.pieces[1], Piece::Expr { source, .. } if source == ".properties.x.value"));
    assert_eq!(t.pieces[3], Piece::Placeholder("cred.password".into()));
    assert_eq!(t.pieces[5], Piece::Placeholder("bosh-var.ca".into()));
    assert_eq!(t.pieces[7], Piece::Placeholder("/abs/x".into()));
    let v = t.render(&table(), "p").unwrap();
    assert_eq!(
        v,
        json!("a hello b ((cred.password)) c ((bosh-var.ca)) d ((/abs/x))")
    );
}

#[test]
fn telling_expressions_from_bosh_variables() {
    for (content, om) in [
        (" instances ", true),
        ("$director.hostname", true),
        (".deployment_name", true),
        ("a||b", true),
        ("'x'", true),
        ("kubo-admin-password", false),
        ("tls-kubernetes.ca", false),
        ("/cf/ca.certificate", false),
        (" /cf/ca ", false),
        ("instances", false),
        ("", false),
    ] {
        assert_eq!(is_expression_content(content), om, "{content:?}");
    }
}

#[test]
fn triple_parens_pass_through_embedded_and_tight() {
    let t = table();
    assert_eq!(
        substitute(&json!("prefix-((( credhub-password )))-suffix"), &t, "p").unwrap(),
        json!("prefix-((credhub-password))-suffix")
    );
    assert_eq!(
        substitute(&json!("(((telemetry_ca.certificate)))\n"), &t, "p").unwrap(),
        json!("((telemetry_ca.certificate))\n")
    );
    assert_eq!(
        substitute(
            &json!("((tls-kubernetes.certificate))((tls-kubernetes.ca))"),
            &t,
            "p"
        )
        .unwrap(),
        json!("((tls-kubernetes.certificate))((tls-kubernetes.ca))")
    );
}

#[test]
fn quoted_placeholder_inside_an_expression_is_not_cut() {
    let src = "(( .properties.flag.value ? '((/services/tls_ca.certificate))' : '' ))";
    assert_eq!(
        substitute(&json!(src), &table(), "p").unwrap(),
        json!("((/services/tls_ca.certificate))")
    );
}

#[test]
fn node_level_substitution_keeps_structure() {
    let doc = json!({
        "users": "(( .properties.list.value || [] ))",
        "tls": " (( .properties.tls.selected_option.parsed_manifest(block) )) \n",
        "port": "((.properties.port.value))",
        "greeting": "Hello, (( example_string.value ))! Port (( .properties.port.value ))",
        "creds": "(( .properties.creds.identity )):(( .properties.creds.password ))",
        "unset_inline": "[(( .properties.unset.value ))]",
        "list_inline": "l=(( .properties.list.value ))",
        "nested": [{"n": "(( instances ))"}, 7, null, true],
        "plain": "no expressions (here)",
    });
    let out = substitute(&doc, &table(), "job_types[0].manifest").unwrap();
    assert_eq!(
        out,
        json!({
            "users": ["a", "b"],
            "tls": {"enabled": true, "port": 443},
            "port": 8443,
            "greeting": "Hello, World! Port 8443",
            "creds": "admin:s3cret",
            "unset_inline": "[]",
            "list_inline": "l=[\"a\",\"b\"]",
            "nested": [{"n": 3}, 7, null, true],
            "plain": "no expressions (here)",
        })
    );
    // Key order is kept.
    let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
    assert_eq!(keys[0], "users");
    assert_eq!(keys[8], "plain");
}

#[test]
fn keys_with_expressions_are_rendered_as_text() {
    let out = substitute(&json!({"(( .properties.x.value ))-key": 1}), &table(), "p").unwrap();
    assert_eq!(out, json!({"hello-key": 1}));
}

#[test]
fn substitution_errors_name_the_yaml_path() {
    let doc = json!({"properties": {"list": [1, {"x": "(( .properties.missing.value ))"}]}});
    let err = substitute(&doc, &table(), "job_types[2].manifest").unwrap_err();
    assert_eq!(
        err,
        Error::Expr {
            expr: ".properties.missing.value".into(),
            at: "job_types[2].manifest.properties.list[1].x".into(),
            message: "unknown reference `.properties.missing.value`".into()
        }
    );
    let doc = json!({"a": "x (( .properties.x.value || )) y"});
    let Error::Expr { expr, at, message } =
        substitute(&doc, &table(), "runtime_configs[0]").unwrap_err()
    else {
        panic!("not an Expr error")
    };
    assert_eq!(expr, ".properties.x.value ||");
    assert_eq!(at, "runtime_configs[0].a");
    assert!(message.contains("column"), "{message}");
}

#[test]
fn unterminated_parens_stay_text() {
    assert_eq!(
        substitute(&json!("echo $((1+2)) and (( open"), &table(), "p").unwrap(),
        json!("echo $((1+2)) and (( open")
    );
}

#[test]
fn template_references_and_single_expression() {
    let t = Template::parse("(( a.value )) and (( $director.tld ))", "p").unwrap();
    assert!(t.single_expression().is_none());
    assert_eq!(t.references().len(), 2);
    let t = Template::parse("  (( a.value ))  ", "p").unwrap();
    assert!(t.single_expression().is_some());
    assert!(t.has_expressions());
    let t = Template::parse("((( a )))", "p").unwrap();
    assert!(!t.has_expressions());
    assert_eq!(
        expressions_in("x (( a.value )) ((( b ))) (( c.value ))", "p")
            .unwrap()
            .len(),
        2
    );
}

// ---- real tiles ----------------------------------------------------------------------------

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../../shared/fixtures/tiles/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn every_expression_in_the_fixture_tiles_parses() {
    let re = regex::Regex::new(r"\(\(\(.*?\)\)\)|\(\(.*?\)\)").unwrap();
    let mut expressions = 0;
    let mut placeholders = 0;
    for name in ["pks-1.1.3.yml", "example-product.yml"] {
        let text = fixture(name);
        for (line_no, line) in text.lines().enumerate() {
            for m in re.find_iter(line) {
                let at = format!("{name}:{}", line_no + 1);
                let t = Template::parse(m.as_str(), &at).unwrap_or_else(|e| panic!("{e}"));
                for piece in &t.pieces {
                    match piece {
                        Piece::Expr { source, expr } => {
                            expressions += 1;
                            // The same text parses on its own and its canonical form re-parses.
                            assert_eq!(&parse(source).unwrap(), expr, "{at}");
                            assert_eq!(&parse(&expr.to_string()).unwrap(), expr, "{at}");
                        }
                        Piece::Placeholder(_) => placeholders += 1,
                        Piece::Text(t) => panic!("{at}: `{}` left text {t:?}", m.as_str()),
                    }
                }
            }
        }
    }
    assert!(expressions > 400, "only {expressions} expressions found");
    assert!(placeholders > 20, "only {placeholders} placeholders found");
}

#[test]
fn fixture_expressions_classify_as_expected() {
    let text = fixture("example-product.yml");
    let mut kinds = std::collections::BTreeSet::new();
    // The whole file as one text: the scanner must find the same expressions as the line regex.
    let found = expressions_in(&text, "example-product.yml").unwrap();
    assert!(found.len() > 150, "{}", found.len());
    for (_, expr) in found {
        for reference in references(&expr) {
            kinds.insert(match reference {
                Reference::Property(p) => match p.owner {
                    Owner::Global => "global",
                    Owner::Job(_) => "job",
                    Owner::CurrentJob => "bare",
                    Owner::CurrentRecord => "record",
                },
                Reference::Product { .. } => "product",
                Reference::Job { .. } => "job-accessor",
                Reference::Context { .. } => "context",
            });
        }
    }
    let all: Vec<&str> = kinds.into_iter().collect();
    assert_eq!(
        all,
        vec![
            "bare",
            "context",
            "global",
            "job",
            "job-accessor",
            "product",
            "record"
        ]
    );
}

// ---- robustness ----------------------------------------------------------------------------

mod never_panics {
    use super::super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parse_any_string(s in "\\PC{0,80}") {
            let _ = parse(&s);
        }

        #[test]
        fn parse_expression_like_strings(s in "[ .$()\\[\\]'\"|?:,a-z_0-9-]{0,60}") {
            if let Ok(e) = parse(&s) {
                // Whatever parses prints to something that parses to the same tree.
                prop_assert_eq!(parse(&e.to_string()).unwrap(), e);
            }
        }

        #[test]
        fn templates_never_panic(s in "[ ().$'\"a-z?|:]{0,60}") {
            let _ = Template::parse(&s, "p");
        }
    }
}
