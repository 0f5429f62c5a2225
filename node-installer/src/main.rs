//! `heart-node-installer`: the chart's node-installer DaemonSet's program (see the library).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Parser;
use heart_node_installer::install::{self, Plan};

/// Installs containerd-shim-heart-v1 on this node and the `heart` runtime in containerd's
/// config, restarts containerd when either changed, and labels the node.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The node's root file system, as mounted in this container.
    #[arg(long, env = "HEART_HOST_ROOT", default_value = "/host")]
    host_root: PathBuf,
    /// The shim binary to install.
    #[arg(long, default_value = "/containerd-shim-heart-v1")]
    shim: PathBuf,
    /// The node's directory for the shim (on containerd's PATH).
    #[arg(long, env = "HEART_SHIM_DIR", default_value = "/usr/local/bin")]
    shim_dir: PathBuf,
    /// containerd's config file on the node.
    #[arg(
        long,
        env = "HEART_CONTAINERD_CONFIG",
        default_value = "/etc/containerd/config.toml"
    )]
    containerd_config: PathBuf,
    /// The CRI runtime handler (the RuntimeClass's `handler`).
    #[arg(long, default_value = "heart")]
    handler: String,
    /// Run on the node (in its root) when something changed.
    #[arg(
        long,
        env = "HEART_RESTART_COMMAND",
        default_value = "systemctl restart containerd"
    )]
    restart_command: String,
    /// This node (the downward API's spec.nodeName): labelled once it can run heart pods.
    #[arg(long, env = "NODE_NAME")]
    node_name: Option<String>,
    /// The label, `key=value`.
    #[arg(
        long,
        env = "HEART_NODE_LABEL",
        default_value = "heart-display.io/shim=installed"
    )]
    label: String,
    /// After installing, wait for SIGTERM (the DaemonSet's long-running container).
    #[arg(long)]
    wait: bool,
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.wait {
        return wait_for_stop();
    }
    let Some((key, value)) = args.label.split_once('=') else {
        bail!("--label `{}` is not key=value", args.label);
    };
    let plan = Plan {
        host_root: args.host_root,
        shim: args.shim,
        shim_dir: args.shim_dir,
        containerd_config: args.containerd_config,
        handler: args.handler,
        restart_command: args.restart_command,
        label: args
            .node_name
            .map(|node| (node, key.to_owned(), value.to_owned())),
    };
    install::run(&plan, &mut |line| println!("{line}")).context("installing the heart shim")?;
    Ok(())
}

/// Blocks until SIGTERM or SIGINT (as PID 1 of a container it gets no default handlers).
fn wait_for_stop() -> Result<()> {
    use nix::sys::signal::{SigSet, Signal};
    let mut set = SigSet::empty();
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGINT);
    set.thread_block().context("blocking signals")?;
    let signal = set.wait().context("waiting for a signal")?;
    println!("stopping on {signal}");
    Ok(())
}
