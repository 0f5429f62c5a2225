//! The listening socket, with an accept queue sized for bursts: the standard library's and
//! mio's backlog of 128 overflowed when hundreds of clients connected at once while the accept
//! loop was busy (the kernel then drops a SYN, and that client waits a 1 s retransmission —
//! seen as a 1.03 s request in the slowloris test beside 500 connections). The kernel caps the
//! backlog at `net.core.somaxconn`.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket};

/// Connections the kernel may hold for the accept loop.
pub const BACKLOG: u32 = 4096;

/// A listener on `address` (port 0: one the system picks) with a [`BACKLOG`]-long accept
/// queue, reusing the address as `TcpListener::bind` does.
pub fn bind(address: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match address {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(BACKLOG)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_burst_past_the_standard_librarys_128_is_held_for_the_accept_loop() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let listener = bind("127.0.0.1:0".parse().expect("an address")).expect("listening");
            let address = listener.local_addr().expect("its address");
            // Nothing accepts: every connection waits in the kernel's queue. Past a backlog
            // of 128 the kernel drops the SYN and the connect times out.
            let held: Vec<_> = (0..300)
                .map(|i| {
                    std::net::TcpStream::connect_timeout(&address, Duration::from_millis(500))
                        .unwrap_or_else(|e| panic!("connection {i} not held: {e}"))
                })
                .collect();
            assert_eq!(held.len(), 300);
        });
    }
}
