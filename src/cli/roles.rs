//! `schemac roles sync`: set the passwords of the declared LOGIN roles from the environment
//! variables their specs name (`password_env`). See [`crate::roles`] for how the password
//! reaches the server (as a SCRAM verifier, never in clear).

use std::path::Path;
use std::process::ExitCode;

use super::Format;
use crate::migration::CompileError;
use crate::roles::{self, Transport};
use crate::{layers, spec};

pub struct SyncArgs<'a> {
    pub database_url: Option<&'a str>,
    pub allow_unencrypted: bool,
    pub dry_run: bool,
}

pub fn sync(root: &Path, format: Format, args: &SyncArgs) -> anyhow::Result<ExitCode> {
    let project = match spec::load_project(root) {
        Ok(p) => p,
        Err(d) => {
            return Ok(super::report(
                root,
                None,
                &CompileError::Diagnostics(d),
                format,
            ))
        }
    };
    let folded = match layers::fold(&project) {
        Ok(f) => f,
        Err(d) => {
            return Ok(super::report(
                root,
                Some(&project),
                &CompileError::Diagnostics(d),
                format,
            ))
        }
    };
    let (wanted, without) = roles::password_roles(folded.last());
    if wanted.is_empty() {
        return Ok(done(
            format,
            &[],
            &without,
            "no LOGIN role names a password variable (`password_env`); nothing to do",
        ));
    }
    let secrets = match roles::read_secrets(&wanted, |k| std::env::var(k).ok()) {
        Ok(s) => s,
        Err(missing) => {
            let lines: Vec<String> = missing
                .iter()
                .map(|m| {
                    format!(
                        "{} is {} (password of role {}{})",
                        m.role.env,
                        if m.empty { "empty" } else { "not set" },
                        m.role.role,
                        m.role
                            .origin
                            .as_ref()
                            .map(|s| format!(", declared at {s}"))
                            .unwrap_or_default()
                    )
                })
                .collect();
            if format == Format::Json {
                println!(
                    "{}",
                    serde_json::json!({ "ok": false, "missing": missing.iter().map(|m| &m.role.env).collect::<Vec<_>>(), "changed": [] })
                );
            } else {
                for l in &lines {
                    eprintln!("error: {l}");
                }
                eprintln!("help: export every variable named by a `password_env` (the values never reach generated files or bundles)");
                eprintln!("nothing was changed");
            }
            return Ok(ExitCode::from(2));
        }
    };
    let names: Vec<String> = secrets.iter().map(|(r, _)| r.role.clone()).collect();
    if args.dry_run {
        if format == Format::Json {
            println!(
                "{}",
                serde_json::json!({ "ok": true, "dry_run": true, "would_set": names, "without_password_env": without })
            );
        } else {
            for (r, _) in &secrets {
                println!("would set the password of role {} from {}", r.role, r.env);
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let Some(url) = args.database_url.filter(|u| !u.trim().is_empty()) else {
        return Ok(super::usage_error(
            format,
            "no database: pass --database-url URL or set DATABASE_URL",
        ));
    };
    let (opts, transport) = match roles::connect_options(url.trim()) {
        Ok(r) => r,
        Err(e) => return Ok(super::usage_error(format, &e.to_string())),
    };
    if let Transport::Remote(host) = &transport {
        if !args.allow_unencrypted {
            return Ok(super::usage_error(
                format,
                &format!(
                    "refusing to connect to {host} without TLS (schemac has none): connect through a Unix socket or localhost (e.g. an SSH tunnel), or pass --allow-unencrypted (the password itself is never sent, only its SCRAM verifier)"
                ),
            ));
        }
    }
    match roles::sync(opts, &secrets) {
        Ok(set) => {
            let by_role: Vec<String> = secrets
                .iter()
                .map(|(r, _)| format!("set the password of role {} (from {})", r.role, r.env))
                .collect();
            debug_assert_eq!(set.len(), by_role.len());
            Ok(done(format, &set, &without, &by_role.join("\n")))
        }
        Err(e) => {
            if format == Format::Json {
                println!(
                    "{}",
                    serde_json::json!({ "ok": false, "error": e.to_string(), "changed": [] })
                );
            } else {
                eprintln!("error: {e}");
            }
            Ok(ExitCode::from(2))
        }
    }
}

fn done(format: Format, set: &[String], without: &[String], text: &str) -> ExitCode {
    if format == Format::Json {
        println!(
            "{}",
            serde_json::json!({ "ok": true, "changed": set, "without_password_env": without })
        );
    } else {
        println!("{text}");
        if !without.is_empty() {
            println!(
                "LOGIN roles without password_env (left alone): {}",
                without.join(", ")
            );
        }
    }
    ExitCode::SUCCESS
}
