//! Retries and clear errors: a fault-injecting HTTP proxy in front of moto answers some
//! calls itself — throttling every Nth call, or refusing credentials — and passes the rest on.

use drydock_api::Provider;
use drydock_aws::{AwsAccount, AwsProvider, Regions};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use drydock_testkit::moto as server;

fn moto() -> server::MotoServer {
    server::MotoServer::start(&[])
}

/// What the proxy does with a request.
#[derive(Clone, Copy)]
enum Fault {
    /// Answer every `n`th request with RequestLimitExceeded.
    ThrottleEvery(usize),
    /// Answer every request with AuthFailure.
    Auth,
}

fn ec2_error(code: &str, message: &str) -> Vec<u8> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>proxy</RequestID></Response>"
    );
    let status = if code == "AuthFailure" {
        "401 Unauthorized"
    } else {
        "503 Service Unavailable"
    };
    format!("HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).into_bytes()
}

/// Reads one HTTP/1.1 request (headers and Content-Length body).
fn read_request(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut head = Vec::new();
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().ok()?;
        }
        // The upstream connection is closed after each exchange.
        if line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        if line == "\r\n" {
            head.extend_from_slice(b"Connection: close\r\n\r\n");
            break;
        }
        head.extend_from_slice(line.as_bytes());
    }
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    head.extend(body);
    Some(head)
}

/// Starts the proxy; returns its port and the count of faults it injected.
fn proxy(upstream: u16, fault: Fault) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let injected = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&injected);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut client) = conn else { continue };
            let (seen, counter) = (Arc::clone(&seen), Arc::clone(&counter));
            std::thread::spawn(move || {
                let Some(request) = read_request(&mut client) else {
                    return;
                };
                let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
                let reply = match fault {
                    Fault::ThrottleEvery(k) if n % k == 0 => {
                        Some(ec2_error("RequestLimitExceeded", "Request limit exceeded."))
                    }
                    Fault::Auth => Some(ec2_error(
                        "AuthFailure",
                        "AWS was not able to validate the provided access credentials",
                    )),
                    _ => None,
                };
                if let Some(reply) = reply {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let _ = client.write_all(&reply);
                    return;
                }
                let Ok(mut up) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    return;
                };
                let _ = up.write_all(&request);
                let mut response = Vec::new();
                let _ = up.read_to_end(&mut response);
                let _ = client.write_all(&response);
            });
        }
    });
    (port, injected)
}

fn account(port: u16, profile: Option<&str>) -> AwsAccount {
    AwsAccount {
        name: "proxied".into(),
        profile: profile.map(String::from),
        role_arn: None,
        role_chain: Vec::new(),
        external_id: None,
        regions: Regions::List(vec![
            "eu-west-1".into(),
            "us-east-1".into(),
            "eu-central-1".into(),
        ]),
        endpoint_url: Some(format!("http://127.0.0.1:{port}")),
        readonly: false,
        production: false,
        concurrency: 3,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_retried_with_backoff() {
    let m = moto();
    let (port, injected) = proxy(m.port, Fault::ThrottleEvery(3));
    let p = AwsProvider::new(account(port, None)).await;
    let r = p
        .scan(&|_| {})
        .await
        .expect("the scan succeeds despite throttling");
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert!(
        injected.load(Ordering::SeqCst) >= 3,
        "the proxy throttled some calls"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_failure_names_the_account_and_credentials() {
    let m = moto();
    let (port, _) = proxy(m.port, Fault::Auth);
    let p = AwsProvider::new(account(port, None)).await;
    let r = p.scan(&|_| {}).await.unwrap();
    // Every region is refused: each one's outcome is denied, naming the credentials.
    assert_eq!(r.outcomes.len(), 3, "{r:?}");
    assert!(r
        .outcomes
        .iter()
        .all(|o| o.state == drydock_api::ScopeState::Denied));
    let text = r.outcomes[0].reason.clone().unwrap_or_default();
    assert!(
        text.contains("proxied") && text.contains("AuthFailure"),
        "{text}"
    );
    assert!(
        text.contains("default credential chain"),
        "names where credentials came from: {text}"
    );
}
