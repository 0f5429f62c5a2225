//! A blocking CRI client over containerd's socket (k8s-cri over tonic), as the kubelet dials
//! `unix:///run/containerd/containerd.sock`.

use std::future::Future;
use std::path::{Path, PathBuf};

use hyper_util::rt::TokioIo;
use k8s_cri::v1::image_service_client::ImageServiceClient;
use k8s_cri::v1::runtime_service_client::RuntimeServiceClient;
use tonic::transport::{Channel, Endpoint, Uri};

/// CRI's runtime and image services on one connection, called from synchronous test code.
#[derive(Debug)]
pub struct CriClient {
    tokio: tokio::runtime::Runtime,
    channel: Channel,
}

impl CriClient {
    /// Connects to the CRI server on the unix socket `socket`.
    pub fn connect(socket: &Path) -> Result<CriClient, tonic::transport::Error> {
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime for the CRI client");
        let socket: PathBuf = socket.to_owned();
        // The URI is required but unused: every connection goes to the socket.
        let endpoint = Endpoint::from_static("http://cri.invalid");
        let channel = tokio.block_on(endpoint.connect_with_connector(tower::service_fn(
            move |_: Uri| {
                let socket = socket.clone();
                async move {
                    let stream = tokio::net::UnixStream::connect(socket).await?;
                    Ok::<_, std::io::Error>(TokioIo::new(stream))
                }
            },
        )))?;
        Ok(CriClient { tokio, channel })
    }

    /// One call on the runtime service (its status boxed: it is large): `cri.runtime(|mut c| async move { c.version(req).await })`.
    pub fn runtime<T, F>(
        &self,
        call: impl FnOnce(RuntimeServiceClient<Channel>) -> F,
    ) -> Result<T, Box<tonic::Status>>
    where
        F: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        let client = RuntimeServiceClient::new(self.channel.clone());
        self.tokio
            .block_on(call(client))
            .map(tonic::Response::into_inner)
            .map_err(Box::new)
    }

    /// One call on the image service.
    pub fn images<T, F>(
        &self,
        call: impl FnOnce(ImageServiceClient<Channel>) -> F,
    ) -> Result<T, Box<tonic::Status>>
    where
        F: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        let client = ImageServiceClient::new(self.channel.clone());
        self.tokio
            .block_on(call(client))
            .map(tonic::Response::into_inner)
            .map_err(Box::new)
    }
}
