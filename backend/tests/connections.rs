//! The real `certus` binary under idle and half-sent connections: they are closed when
//! their headers do not arrive in time, and a node at its connection limit answers again
//! once they go. Servers bind 127.0.0.1 on a free port and are killed when the test ends.

mod process;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use process::{certus, Server};

/// The server's deadline for a request's headers, with room for a slow machine.
const HEADER_DEADLINE: Duration = Duration::from_secs(10 + 5);

#[test]
fn idle_and_half_sent_connections_are_closed_and_the_limit_frees_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut command = certus(dir.path());
    command.env("CERTUS_MAX_CONNECTIONS", "3");
    let server = Server::spawn(command);

    // Three connections take every slot: two idle, one that sends half a request.
    let mut held: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(server.addr).expect("connect"))
        .collect();
    held[2]
        .write_all(b"POST /credentials/verify HTTP/1.1\r\nHost: x\r\n")
        .expect("half a request");
    let started = Instant::now();

    // Each is closed by the server, without an answer, once its headers are late.
    for stream in &mut held {
        stream
            .set_read_timeout(Some(HEADER_DEADLINE))
            .expect("timeout");
        let mut buffer = Vec::new();
        let read = stream.read_to_end(&mut buffer);
        assert!(
            read.is_ok(),
            "closed by the server, not left open: {read:?} after {:?}",
            started.elapsed()
        );
        assert!(
            !String::from_utf8_lossy(&buffer).contains("200 OK"),
            "no request was served on a held connection"
        );
    }
    assert!(
        started.elapsed() < HEADER_DEADLINE,
        "{:?}",
        started.elapsed()
    );

    // The slots are free again: the node answers.
    let (status, _) = server.request_text("GET", "/health", "", None);
    assert_eq!(status, 200);
}
