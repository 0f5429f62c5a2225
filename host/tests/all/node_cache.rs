//! The node's compiled-code cache as the shim uses it ([`heart_host::runtime::node_cache`]):
//! compiled once, found after, a tampered entry refused and recompiled, keys that tell Wasm and
//! engines apart, unsafe directories refused; and a container refusing `HEART_CACHE_DIR`.

use std::os::unix::fs::PermissionsExt;

use heart_host::container::{self, ContainerError};
use heart_host::runtime::compile_cache;
use heart_host::runtime::engine::{self, EngineOptions};
use heart_host::runtime::node_cache::{NodeCache, NodeCacheError, Prepared};

use crate::container::{process, run_to_end};
use crate::support::component;

fn wasm(file: &str) -> Vec<u8> {
    std::fs::read(component(file)).expect("a built component")
}

#[test]
fn compiled_once_then_found_and_a_tampered_entry_is_refused_and_recompiled() {
    let dir = tempfile::tempdir().expect("dir");
    let cache = NodeCache::open(dir.path().join("compiled")).expect("a fresh cache opens");
    let mode = std::fs::metadata(cache.dir())
        .expect("dir")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
    let validator = wasm("heart_validate.wasm");
    let engine = container::engine_for(&validator, &process("v", &["/v.wasm"], &[]))
        .expect("the validator's engine");

    let first = cache.prepare(&engine, &validator).expect("compiled");
    assert_eq!(first.prepared, Prepared::Compiled { refused: 0 });
    let mode = std::fs::metadata(&first.path)
        .expect("entry")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o444, "{}", first.path.display());
    let second = cache.prepare(&engine, &validator).expect("found");
    assert_eq!(second.prepared, Prepared::Hit);
    assert_eq!((&second.path, &second.key), (&first.path, &first.key));

    // A byte flipped (as root could): refused, removed, compiled again under the same name.
    let mut bytes = std::fs::read(&first.path).expect("entry");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(&first.path, &bytes).expect("tamper");
    let third = cache.prepare(&engine, &validator).expect("recompiled");
    assert_eq!(third.prepared, Prepared::Compiled { refused: 1 });
    assert_eq!(third.path, first.path);
    // Truncated: the same.
    std::fs::write(&first.path, &bytes[..middle]).expect("truncate");
    let fourth = cache.prepare(&engine, &validator).expect("recompiled");
    assert_eq!(fourth.prepared, Prepared::Compiled { refused: 1 });
    let entries = std::fs::read_dir(cache.dir()).expect("dir").count();
    assert_eq!(entries, 1, "one entry, no temporary file left");
}

#[test]
fn the_key_tells_wasm_and_engine_configurations_apart() {
    let options = EngineOptions {
        pooling: false,
        ..EngineOptions::default()
    };
    let plain = engine::build(options, false).expect("engine").engine;
    let concurrent = engine::build(options, true).expect("engine").engine;
    let http = wasm("heart_http.wasm");
    let validator = wasm("heart_validate.wasm");
    let key = compile_cache::key;
    assert_eq!(key(&plain, &http), key(&plain, &http));
    assert_ne!(key(&plain, &http), key(&plain, &validator));
    assert_ne!(key(&plain, &http), key(&concurrent, &http));
    let mut one_bit = http.clone();
    let last = one_bit.len() - 1;
    one_bit[last] ^= 1;
    assert_ne!(key(&plain, &http), key(&plain, &one_bit));
}

#[test]
fn a_directory_others_can_write_or_a_symlink_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let open = dir.path().join("open");
    std::fs::create_dir(&open).expect("mkdir");
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let err = NodeCache::open(open.clone()).expect_err("group/other-writable");
    assert!(
        matches!(err, NodeCacheError::Unsafe { mode: 0o777, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("mode 777"), "{err}");

    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&open, &link).expect("symlink");
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let err = NodeCache::open(link).expect_err("a symlink");
    assert!(matches!(err, NodeCacheError::Unsafe { .. }), "{err}");
    NodeCache::open(open).expect("the same directory, 0700 and ours");
}

#[test]
fn a_container_refuses_a_compile_cache_dir_by_name() {
    let http = wasm("heart_http.wasm");
    let env = ["HEART_CACHE_DIR=/var/cache/heart"];
    let err = run_to_end(&http, &process("heart_http", &["/heart_http.wasm"], &env))
        .expect_err("refused");
    assert!(matches!(err, ContainerError::CacheDir(_)), "{err}");
    assert!(
        err.to_string()
            .starts_with("HEART_CACHE_DIR=`/var/cache/heart` is not accepted in a container"),
        "{err}"
    );
}
