//! The lock: after a restart Tileworks knows no data key until someone gives the decryption
//! passphrase (`crate::passphrase`), so it serves only what unlocking needs, as Ops Manager does:
//!
//! - `GET /unlock`: a server-rendered form (no script needed), posted to `POST /unlock`;
//! - `PUT /api/v0/unlock {"passphrase": …}`: `200 {}`, or `403` for a wrong passphrase, `422`
//!   without one, `429` after repeated failures from one address;
//! - `GET /login/ensure_availability`: `302 → /unlock` while locked, `200` "Waiting for
//!   authentication system to start..." while the services start, then `302 →
//!   /auth/cloudfoundry` (what `om --decryption-passphrase` waits for; that path redirects to
//!   `/login`).
//!
//! Every other request is refused while locked: pages redirect to `/unlock`, everything else
//! is `503` saying why. Once the passphrase opens the data key, `tileworks serve` builds the
//! services and hands the full router to [`Lock::open`]; from then on every request goes there
//! (where the same routes answer as the gate's public entry points).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use serde::Deserialize;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::auth::throttle::{retry_after_secs, Policy, Throttle, ThrottleKey};
use crate::store::sealing::Key32;
use crate::store::Store;
use crate::Error;

/// The longest passphrase considered; longer input is refused before any hashing.
pub const MAX_PASSPHRASE_LEN: usize = 1024;

/// What om's `ensure_availability` poll reads as "still starting".
pub const STARTING_BODY: &str = "Waiting for authentication system to start...";

/// Where Tileworks is in unlocking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Not set up yet (`--setup=api` on an empty data dir): no passphrase, no user; waiting
    /// for `POST /api/v0/setup` or an import (`crate::setup`).
    Fresh,
    /// No data key yet.
    Locked,
    /// The passphrase opened the data key; the services are starting.
    Starting,
    /// Everything is served by the full router.
    Open,
}

/// The lock shared by the locked routes, the full router's unlock routes and `serve`.
pub struct Lock {
    /// The database; an import replaces it (only while fresh, before any service opened it).
    store: RwLock<Store>,
    data_dir: PathBuf,
    /// Setting up and importing run one at a time (the second finds the instance set up).
    setting_up: tokio::sync::Mutex<()>,
    /// The data key once a passphrase opened it (sent once).
    key: watch::Sender<Option<Key32>>,
    phase: RwLock<Phase>,
    app: RwLock<Option<Router>>,
}

impl std::fmt::Debug for Lock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lock")
            .field("phase", &self.phase())
            .finish()
    }
}

/// The account name unlock failures are counted under (no user has it: user names cannot
/// contain spaces).
const UNLOCK_ACCOUNT: &str = "decryption passphrase";

impl Lock {
    pub fn new(store: Store, data_dir: PathBuf, phase: Phase) -> Arc<Lock> {
        Arc::new(Lock {
            store: RwLock::new(store),
            data_dir,
            setting_up: tokio::sync::Mutex::new(()),
            key: watch::channel(None).0,
            phase: RwLock::new(phase),
            app: RwLock::new(None),
        })
    }

    pub fn phase(&self) -> Phase {
        *self.phase.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The database (the imported one after an import).
    pub fn store(&self) -> Store {
        self.store.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// While fresh, sets the instance up (`crate::setup`) and starts the services; refused
    /// (`409`) once it is set up.
    pub async fn set_up(&self, setup: &crate::setup::ValidSetup) -> crate::Result<()> {
        let _one_at_a_time = self.setting_up.lock().await;
        if self.phase() != Phase::Fresh {
            return Err(crate::setup::already_set_up());
        }
        let key = crate::setup::set_up(&self.store(), &self.data_dir, setup).await?;
        self.start(key, "set up through POST /api/v0/setup");
        Ok(())
    }

    /// While fresh, installs the export at `archive` (`crate::installation_archive::import`,
    /// which checks all of it before changing the data dir) and starts the services on the
    /// imported database; refused (`409`) once set up. A passphrase that does not open the
    /// export counts as a wrong unlock from `client` does ([`Lock::import_allowed`]).
    pub async fn import(
        &self,
        archive: &Path,
        passphrase: &str,
        client: SocketAddr,
    ) -> crate::Result<()> {
        let _one_at_a_time = self.setting_up.lock().await;
        if self.phase() != Phase::Fresh {
            return Err(crate::setup::already_set_up());
        }
        self.import_allowed(client).await?;
        let imported =
            crate::installation_archive::import(&self.store(), &self.data_dir, archive, passphrase)
                .await;
        let (store, key) = match imported {
            Ok(imported) => imported,
            Err(err) => {
                if matches!(&err, Error::Invalid { field, .. } if field == crate::installation_archive::PASSPHRASE_FIELD)
                {
                    let throttle = Throttle::new(self.store(), Policy::default());
                    throttle.record_failure(&self.throttle_keys(client)).await?;
                    tracing::warn!(target: "audit", client = %client.ip(), "wrong decryption passphrase for an installation import");
                }
                return Err(err);
            }
        };
        *self.store.write().unwrap_or_else(|p| p.into_inner()) = store;
        self.start(
            key,
            "imported an installation (POST /api/v0/installation_asset_collection)",
        );
        Ok(())
    }

    /// The data key is known: the services start (`serve` waits in [`Lock::unlocked`]).
    fn start(&self, key: Key32, how: &str) {
        let mut phase = self.phase.write().unwrap_or_else(|p| p.into_inner());
        *phase = Phase::Starting;
        tracing::info!(target: "audit", "{how}");
        self.key.send_replace(Some(key));
    }

    /// Waits until a passphrase opened the data key.
    pub async fn unlocked(&self) -> Key32 {
        let mut rx = self.key.subscribe();
        loop {
            if let Some(key) = rx.borrow_and_update().clone() {
                return key;
            }
            if rx.changed().await.is_err() {
                // The sender lives as long as `self`; this cannot end.
                std::future::pending::<()>().await;
            }
        }
    }

    /// From now on every request goes to `app`.
    pub fn open(&self, app: Router) {
        *self.app.write().unwrap_or_else(|p| p.into_inner()) = Some(app);
        *self.phase.write().unwrap_or_else(|p| p.into_inner()) = Phase::Open;
    }

    fn app(&self) -> Option<Router> {
        self.app.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Checks `passphrase` (throttled per address); the first right one starts the services.
    pub async fn try_passphrase(&self, passphrase: &str, client: SocketAddr) -> crate::Result<()> {
        if passphrase.is_empty() {
            return Err(Error::invalid("passphrase", "must not be blank"));
        }
        if passphrase.len() > MAX_PASSPHRASE_LEN {
            return Err(Error::invalid(
                "passphrase",
                format!("must be at most {MAX_PASSPHRASE_LEN} bytes"),
            ));
        }
        // Failed passphrases, per client address, in the database like login failures (every
        // replica counts them).
        let throttle = Throttle::new(self.store(), Policy::default());
        let keys = self.throttle_keys(client);
        if let Some(wait) = throttle.wait(&keys).await? {
            return Err(Error::Throttled {
                retry_after_secs: retry_after_secs(wait),
            });
        }
        if self.phase() == Phase::Fresh {
            return Err(Error::Refused(
                "Tileworks is not set up yet: set it up first (POST /api/v0/setup, om \
                 configure-authentication) or import an installation"
                    .into(),
            ));
        }
        let key = match crate::passphrase::unlock(&self.store(), passphrase).await {
            Ok(key) => key,
            Err(err @ Error::Forbidden(_)) => {
                throttle.record_failure(&keys).await?;
                tracing::warn!(target: "audit", client = %client.ip(), "wrong decryption passphrase");
                return Err(err);
            }
            Err(err) => return Err(err),
        };
        throttle.record_success(&keys[0]).await?;
        let mut phase = self.phase.write().unwrap_or_else(|p| p.into_inner());
        if *phase == Phase::Locked {
            *phase = Phase::Starting;
            tracing::info!(client = %client.ip(), "unlocked with the decryption passphrase");
            self.key.send_replace(Some(key));
        }
        Ok(())
    }

    /// `429` (before any hashing, or any byte of an import's body) while `client` has tried
    /// too many wrong passphrases: an import on a fresh instance is guessed against as slowly as
    /// the unlock page, with the same counters.
    pub async fn import_allowed(&self, client: SocketAddr) -> crate::Result<()> {
        let throttle = Throttle::new(self.store(), Policy::default());
        match throttle.wait(&self.throttle_keys(client)).await? {
            Some(wait) => Err(Error::Throttled {
                retry_after_secs: retry_after_secs(wait),
            }),
            None => Ok(()),
        }
    }

    fn throttle_keys(&self, client: SocketAddr) -> Vec<ThrottleKey> {
        passphrase_throttle_keys(client.ip())
    }
}

/// What a wrong passphrase is counted against: the passphrase from this address, and the
/// address. Unlocking and changing the passphrase share the counters, so a session cannot be
/// used to guess the passphrase faster than the unlock page allows.
fn passphrase_throttle_keys(client: IpAddr) -> Vec<ThrottleKey> {
    vec![
        ThrottleKey::account_from(UNLOCK_ACCOUNT, client),
        ThrottleKey::Address(client),
    ]
}

/// Changes the decryption passphrase (`crate::passphrase::change`, as the admin CLI does) for
/// a signed-in administrator at `client`: a wrong current passphrase is `403` and counted as a
/// wrong unlock is, and after too many the change is `429` before any hashing.
pub async fn change_passphrase(
    store: &Store,
    client: IpAddr,
    current: &str,
    new: &str,
) -> crate::Result<()> {
    if current.len() > MAX_PASSPHRASE_LEN {
        return Err(Error::invalid(
            "current_passphrase",
            format!("must be at most {MAX_PASSPHRASE_LEN} bytes"),
        ));
    }
    if new.len() > MAX_PASSPHRASE_LEN {
        return Err(Error::invalid(
            "new_passphrase",
            format!("must be at most {MAX_PASSPHRASE_LEN} bytes"),
        ));
    }
    let throttle = Throttle::new(store.clone(), Policy::default());
    let keys = passphrase_throttle_keys(client);
    if let Some(wait) = throttle.wait(&keys).await? {
        return Err(Error::Throttled {
            retry_after_secs: retry_after_secs(wait),
        });
    }
    match crate::passphrase::change(store, current, new).await {
        Err(err @ Error::Forbidden(_)) => {
            throttle.record_failure(&keys).await?;
            tracing::warn!(target: "audit", client = %client, "wrong current decryption passphrase in a change");
            Err(err)
        }
        Err(err) => Err(err),
        Ok(()) => throttle.record_success(&keys[0]).await,
    }
}

/// The router while locked: the unlock routes, everything else refused. Once [`Lock::open`] ran,
/// every request goes to the full router instead.
pub fn locked_router(lock: Arc<Lock>, site_root: &Path, secure_cookies: bool) -> Router {
    STYLESHEET.get_or_init(|| format!("/pkg/{}.css", super::assets::output_name(site_root)));
    // The built assets (the unlock page's stylesheet) are served by the fallback: a route or a
    // nest here would leave its match (path, parameters, prefix) in requests that reach the full
    // router once it is open.
    SITE_ROOT.get_or_init(|| site_root.to_path_buf());
    Router::new()
        .route("/unlock", get(page).post(form))
        .route("/api/v0/unlock", axum::routing::put(api))
        .route("/login/ensure_availability", get(ensure_availability))
        .route("/api/v0/info", get(super::info::info))
        .route("/setup", get(super::setup::page).post(super::setup::form))
        .route("/api/v0/setup", axum::routing::post(super::setup::api))
        .route(
            "/api/v0/installation_asset_collection",
            axum::routing::post(super::api::installation_asset_collection::import)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .fallback(refuse_while_locked)
        .layer(axum::middleware::from_fn(move |request, next| {
            super::headers::security_headers(secure_cookies, request, next)
        }))
        // A 503 while locked is the expected answer, not a server failure to log as an error.
        .layer(tower_http::trace::TraceLayer::new_for_http().on_failure(()))
        .layer(axum::middleware::from_fn_with_state(
            lock.clone(),
            to_app_once_open,
        ))
        .with_state(lock)
}

async fn to_app_once_open(
    State(lock): State<Arc<Lock>>,
    mut request: Request,
    next: Next,
) -> Response {
    match lock.app() {
        Some(app) => {
            // The locked router's route match is not the full router's (axum would append one
            // to the other, and the gate would not know the route).
            request.extensions_mut().remove::<MatchedPath>();
            match app.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        }
        None => next.run(request).await,
    }
}

static SITE_ROOT: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

async fn refuse_while_locked(
    State(lock): State<Arc<Lock>>,
    method: Method,
    request: Request,
) -> Response {
    let path = request.uri().path();
    if method == Method::GET && path.starts_with("/pkg/") {
        if let Some(root) = SITE_ROOT.get() {
            let served = tower_http::services::ServeDir::new(root)
                .oneshot(request)
                .await;
            return match served {
                Ok(response) => response.into_response(),
                Err(never) => match never {},
            };
        }
    }
    let page = method == Method::GET
        && !path.starts_with("/api/")
        && !path.starts_with("/_app/")
        && !path.starts_with("/pkg/")
        && accepts_html(request.headers());
    let fresh = lock.phase() == Phase::Fresh;
    if page {
        return Redirect::to(if fresh { "/setup" } else { "/unlock" }).into_response();
    }
    let message = match lock.phase() {
        Phase::Starting => "Tileworks is starting; try again in a moment.",
        Phase::Fresh => {
            "Tileworks is not set up yet: set it up first (POST /api/v0/setup, om \
             configure-authentication, the /setup page) or import an installation (POST \
             /api/v0/installation_asset_collection, om import-installation)."
        }
        _ => {
            "Tileworks is locked: unlock it with the decryption passphrase first \
             (the /unlock page, PUT /api/v0/unlock, or om --decryption-passphrase)."
        }
    };
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(serde_json::json!({"errors": {"base": [message]}})),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    response
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// `GET /unlock`: the form while locked; a "starting" page that reloads itself while the
/// services start; the login page once open.
pub async fn page(State(lock): State<Arc<Lock>>) -> Response {
    match lock.phase() {
        Phase::Fresh => Redirect::to("/setup").into_response(),
        Phase::Locked => unlock_page(StatusCode::OK, None),
        Phase::Starting => starting_page(),
        Phase::Open => Redirect::to("/login").into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct UnlockForm {
    passphrase: String,
}

/// `POST /unlock` (the form): on success to `/unlock` (which waits for the start, then goes
/// to login); a wrong passphrase shows the form again with the message.
pub async fn form(
    State(lock): State<Arc<Lock>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<UnlockForm>, FormRejection>,
) -> Response {
    // Like the login form: a foreign page must not post it (it would learn nothing, but it
    // would count failures against this browser's address).
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    if let Err(err) = super::csrf::check_login(&headers, host.as_deref()) {
        return unlock_page(StatusCode::FORBIDDEN, Some(&err.to_string()));
    }
    let Form(form) = match form {
        Ok(form) => form,
        Err(rejection) => {
            return unlock_page(
                rejection.status(),
                Some("The form needs the field 'passphrase'."),
            )
        }
    };
    match lock.try_passphrase(&form.passphrase, client).await {
        Ok(()) => Redirect::to("/unlock").into_response(),
        Err(Error::Throttled { retry_after_secs }) => {
            let mut response = unlock_page(
                StatusCode::TOO_MANY_REQUESTS,
                Some(&format!(
                    "Too many wrong passphrases. Try again in {retry_after_secs} seconds."
                )),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            response
        }
        Err(err @ (Error::Forbidden(_) | Error::Invalid { .. })) => {
            let message = match &err {
                Error::Invalid { message, .. } => format!("The passphrase {message}."),
                _ => crate::passphrase::WRONG.to_owned(),
            };
            unlock_page(err.status(), Some(&message))
        }
        Err(err) => {
            tracing::error!(error = %err, "unlocking");
            unlock_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                Some("Unlocking failed; the server log says why."),
            )
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct UnlockRequest {
    passphrase: Option<String>,
}

/// `PUT /api/v0/unlock`, as om's decrypt client calls it (unauthenticated). Answered the same
/// way once open, so `om --decryption-passphrase` works whatever the state.
pub async fn api(
    State(lock): State<Arc<Lock>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    body: Result<Json<UnlockRequest>, JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(body) => body,
        Err(rejection) => {
            let status = rejection.status();
            return (
                status,
                Json(serde_json::json!({"errors": {"passphrase": [format!(
                    "expected a JSON body {{\"passphrase\": \"…\"}} ({})",
                    rejection.body_text()
                )]}})),
            )
                .into_response();
        }
    };
    let Some(passphrase) = body.passphrase else {
        return Error::invalid("passphrase", "is required").into_response();
    };
    match lock.try_passphrase(&passphrase, client).await {
        Ok(()) => Json(serde_json::json!({})).into_response(),
        Err(err) => err.into_response(),
    }
}

/// `GET /login/ensure_availability`, read by om without following redirects.
pub async fn ensure_availability(State(lock): State<Arc<Lock>>) -> Response {
    match lock.phase() {
        // om's "unstarted": configure-authentication and import-installation go on.
        Phase::Fresh => found("/setup"),
        Phase::Locked => found("/unlock"),
        Phase::Starting => Html(format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Tileworks</title></head>\
             <body><p>{STARTING_BODY}</p></body></html>"
        ))
        .into_response(),
        // `Redirect::to` is 303; om wants exactly 302 Found.
        Phase::Open => found("/auth/cloudfoundry"),
    }
}

/// `GET /auth/cloudfoundry`: where Ops Manager's login lives; here, the login page.
pub async fn auth_cloudfoundry() -> Response {
    found("/login")
}

pub(crate) fn found(location: &'static str) -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, HeaderValue::from_static(location))],
    )
        .into_response()
}

/// The stylesheet's path (its name carries the build's hash in a release site), set once the
/// locked router knows the site folder.
static STYLESHEET: std::sync::OnceLock<String> = std::sync::OnceLock::new();

pub(crate) fn stylesheet() -> &'static str {
    STYLESHEET
        .get()
        .map_or("/pkg/tileworks.css", String::as_str)
}

fn unlock_page(status: StatusCode, error: Option<&str>) -> Response {
    let error = error
        .map(|e| {
            format!(
                "<p class=\"form-error\" role=\"alert\">{}</p>",
                html_escape(e)
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Unlock Tileworks</title><link rel=\"stylesheet\" href=\"{css}\"></head>\
         <body><main class=\"login\"><div class=\"login-card\"><h1>Tileworks</h1>\
         <p>Tileworks was restarted. Enter the decryption passphrase to unlock it, then log in.</p>\
         {error}<form method=\"post\" action=\"/unlock\">\
         <label for=\"passphrase\">Decryption passphrase</label>\
         <input id=\"passphrase\" name=\"passphrase\" type=\"password\" autocomplete=\"off\" required autofocus>\
         <button type=\"submit\">Unlock</button></form></div></main></body></html>",
        css = stylesheet()
    );
    (status, Html(body)).into_response()
}

pub(crate) fn starting_page() -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"1\"><title>Unlock Tileworks</title>\
         <link rel=\"stylesheet\" href=\"{css}\"></head>\
         <body><main class=\"login\"><div class=\"login-card\"><h1>Tileworks</h1>\
         <p role=\"status\">Unlocked. {STARTING_BODY}</p>\
         <p><a href=\"/login\">Log in</a></p></div></main></body></html>",
        css = stylesheet()
    );
    Html(body).into_response()
}

pub(crate) fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
