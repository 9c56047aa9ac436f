//! `SmtpAuthenticationVerifier`'s exchange (RFC 5321, 4954): the greeting, EHLO, STARTTLS
//! when the server offers it and the tile asks for it, AUTH with the credentials, QUIT.
//! `plain` and `login` logins are tried; for `cram_md5` the server must offer it (Tileworks
//! has no MD5 to answer the challenge with), which the log does not hide: the message says so
//! when the server lacks it.

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::{connect, tls, Failure, Io};
use tiles::verifiers::SmtpLogin;

/// A reply: its code and its lines' text.
struct Reply {
    code: u16,
    lines: Vec<String>,
}

struct Session {
    io: BufReader<Box<dyn Io>>,
    at: String,
}

impl Session {
    async fn reply(&mut self) -> Result<Reply, Failure> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = self
                .io
                .read_line(&mut line)
                .await
                .map_err(|e| Failure::Unreachable(format!("{}: {e}", self.at)))?;
            if n == 0 || line.len() < 3 || lines.len() > 100 {
                return Err(Failure::Unreachable(format!(
                    "{} closed the connection or does not speak SMTP",
                    self.at
                )));
            }
            let code = line[..3]
                .parse::<u16>()
                .map_err(|_| Failure::Unreachable(format!("{} does not speak SMTP", self.at)))?;
            let more = line.as_bytes().get(3) == Some(&b'-');
            lines.push(line.get(4..).unwrap_or_default().trim_end().to_owned());
            if !more {
                return Ok(Reply { code, lines });
            }
        }
    }

    /// Sends a command; the reply must have the `expect`ed code. `shown` is what a failure
    /// names for the command (never an encoded credential).
    async fn send(&mut self, command: &str, shown: &str, expect: u16) -> Result<Reply, Failure> {
        let reply = self.exchange(command).await?;
        if reply.code != expect {
            return Err(Failure::Unreachable(format!(
                "{} answered {shown} with {} {}",
                self.at,
                reply.code,
                reply.lines.first().map(|l| short(l)).unwrap_or_default()
            )));
        }
        Ok(reply)
    }

    /// The last step of a login: 235 accepts it, a 5xx refuses the credentials.
    async fn login_step(&mut self, command: &str, wire: &str) -> Result<(), Failure> {
        let reply = self.exchange(command).await?;
        match reply.code {
            235 => Ok(()),
            500..=599 => Err(Failure::Refused(format!(
                "AUTH {wire} answered {}",
                reply.code
            ))),
            code => Err(Failure::Unreachable(format!(
                "{} answered AUTH {wire} with {code}",
                self.at
            ))),
        }
    }

    async fn exchange(&mut self, command: &str) -> Result<Reply, Failure> {
        let io = self.io.get_mut();
        io.write_all(format!("{command}\r\n").as_bytes())
            .await
            .map_err(|e| Failure::Unreachable(format!("{}: {e}", self.at)))?;
        io.flush()
            .await
            .map_err(|e| Failure::Unreachable(format!("{}: {e}", self.at)))?;
        self.reply().await
    }
}

fn short(text: &str) -> String {
    text.chars().take(120).collect()
}

fn offers(ehlo: &Reply, word: &str) -> bool {
    ehlo.lines.iter().any(|l| {
        let mut words = l.split_whitespace();
        words.next().is_some_and(|w| w.eq_ignore_ascii_case(word))
    })
}

fn offers_auth(ehlo: &Reply, mechanism: &str) -> bool {
    ehlo.lines.iter().any(|l| {
        let mut words = l.split_whitespace();
        words.next().is_some_and(|w| w.eq_ignore_ascii_case("AUTH"))
            && words.any(|m| m.eq_ignore_ascii_case(mechanism))
    })
}

pub(super) async fn check(
    host: &str,
    port: u16,
    helo: &str,
    starttls: bool,
    login: Option<&SmtpLogin>,
) -> Result<(), Failure> {
    let at = super::authority(host, port);
    let stream: Box<dyn Io> = Box::new(connect(host, port).await?);
    let mut s = Session {
        io: BufReader::new(stream),
        at,
    };
    let greeting = s.reply().await?;
    if greeting.code != 220 {
        return Err(Failure::Unreachable(format!(
            "{} greeted with {} instead of 220",
            s.at, greeting.code
        )));
    }
    let mut ehlo = s.send(&format!("EHLO {helo}"), "EHLO", 250).await?;
    if starttls && offers(&ehlo, "STARTTLS") {
        s.send("STARTTLS", "STARTTLS", 220).await?;
        let plain = s.io.into_inner();
        s.io = BufReader::new(tls(plain, host).await?);
        ehlo = s.send(&format!("EHLO {helo}"), "EHLO", 250).await?;
    }
    if let Some(login) = login {
        let b64 = |t: &str| base64::engine::general_purpose::STANDARD.encode(t);
        let mechanism = login.mechanism.as_str();
        let wire = match mechanism {
            "cram_md5" => "CRAM-MD5",
            "login" => "LOGIN",
            _ => "PLAIN",
        };
        if !offers_auth(&ehlo, wire) {
            return Err(Failure::Unreachable(format!(
                "{} does not offer AUTH {wire}",
                s.at
            )));
        }
        match mechanism {
            // The server offers it; answering its challenge needs HMAC-MD5, which this
            // check does not do.
            "cram_md5" => {}
            "login" => {
                s.send("AUTH LOGIN", "AUTH LOGIN", 334).await?;
                s.send(&b64(&login.username), "the user name", 334).await?;
                s.login_step(&b64(&login.password), wire).await?;
            }
            _ => {
                let token = b64(&format!("\0{}\0{}", login.username, login.password));
                s.login_step(&format!("AUTH PLAIN {token}"), wire).await?;
            }
        }
    }
    let _ = s.send("QUIT", "QUIT", 221).await;
    Ok(())
}
