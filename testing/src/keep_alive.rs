//! One HTTP/1.1 keep-alive connection, reused for every request: what shows that a server kept
//! a connection open across something (a swap of its code, a reload).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// An open connection to a server.
#[derive(Debug)]
pub struct KeepAlive {
    reader: BufReader<TcpStream>,
    host: String,
}

/// A response read from the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// Header names (lower case) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body, as text.
    pub body: String,
}

impl Answer {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl KeepAlive {
    /// Connects to `base` (`http://host:port`).
    pub fn open(base: &str) -> Self {
        let address = base.trim_start_matches("http://").trim_end_matches('/');
        let socket = TcpStream::connect(address).expect("connecting to the server");
        socket
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("a read timeout");
        Self {
            reader: BufReader::new(socket),
            host: address.to_owned(),
        }
    }

    /// `GET path` on this connection. Panics when the server closed it or says it will
    /// (`Connection: close`), or answers without a `Content-Length`.
    pub fn get(&mut self, path: &str) -> Answer {
        write!(
            self.reader.get_mut(),
            "GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n",
            self.host
        )
        .expect("sending on the open connection");
        let mut status_line = String::new();
        self.reader
            .read_line(&mut status_line)
            .expect("a status line on the same connection");
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status in {status_line:?}: the connection was dropped"));
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).expect("a header line");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').expect("a header");
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
        let mut answer = Answer {
            status,
            headers,
            body: String::new(),
        };
        assert_ne!(
            answer.header("connection"),
            Some("close"),
            "the server closes the connection"
        );
        let length: usize = answer
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .expect("a content-length");
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).expect("the body");
        answer.body = String::from_utf8_lossy(&body).into_owned();
        answer
    }
}
