//! `Net::export_safetensors` read back by a reader that shares nothing with the writer: a
//! Python standard-library script (`struct` and `json` only) that follows the format's
//! definition (8-byte little-endian header length, JSON header, raw little-endian values at
//! `data_offsets`) and prints every tensor; the values must be the net's, bit for bit.

use std::process::Command;

use scratchnet_network::{Activation, Net, NetSpec, WeightInit};
use scratchnet_tensor::{Scalar, rng_from_seed};

const READER: &str = r#"
import json, struct, sys
data = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", data[:8])
header = json.loads(data[8:8 + n].decode("utf-8"))
body = data[8 + n:]
meta = header.pop("__metadata__", {})
print("meta", json.dumps(meta, sort_keys=True))
end = 0
for name, t in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
    lo, hi = t["data_offsets"]
    assert lo == end, "tensors are contiguous"
    end = hi
    fmt = {"F32": "f", "F64": "d"}[t["dtype"]]
    count = 1
    for d in t["shape"]:
        count *= d
    assert hi - lo == count * struct.calcsize(fmt), name
    values = struct.unpack("<%d%s" % (count, fmt), body[lo:hi])
    print(name, t["dtype"], ",".join(map(str, t["shape"])), " ".join(repr(v) for v in values))
assert end == len(body), "no bytes after the last tensor"
"#;

fn read_back<A: Scalar>(net: &Net<A>, dir: &std::path::Path) -> Vec<String> {
    let path = dir.join("model.safetensors");
    net.export_safetensors(&path).unwrap();
    let out = Command::new("python3")
        .args(["-c", READER])
        .arg(&path)
        .output()
        .expect("python3 runs the independent reader");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn check<A: Scalar>(net: &Net<A>, dtype: &str, input: &str) {
    let dir = tempfile::tempdir().unwrap();
    let lines = read_back(net, dir.path());
    // the spec in full (JSON) for import_safetensors, and its readable form for other readers
    let spec = serde_json::to_string(net.spec()).unwrap();
    let meta = format!(
        r#"meta {{"input": "{input}", "layers": "{}", "spec": {}}}"#,
        net.spec(),
        serde_json::to_string(&spec).unwrap()
    );
    assert_eq!(lines[0], meta);
    let tensors: Vec<(String, ndarray::ArrayD<A>)> =
        net.params().into_iter().chain(net.state()).collect();
    assert_eq!(lines.len() - 1, tensors.len());
    for (name, a) in &tensors {
        let line = lines
            .iter()
            .find(|l| l.split(' ').next() == Some(name.as_str()))
            .unwrap_or_else(|| panic!("{name} is in the file"));
        let mut parts = line.splitn(4, ' ');
        parts.next();
        assert_eq!(parts.next(), Some(dtype), "{name}");
        let shape: Vec<usize> = parts
            .next()
            .unwrap()
            .split(',')
            .map(|d| d.parse().unwrap())
            .collect();
        assert_eq!(shape, a.shape(), "{name}");
        let values: Vec<f64> = parts
            .next()
            .unwrap()
            .split(' ')
            .map(|v| v.parse().unwrap())
            .collect();
        // row-major, each value exactly (Python's repr of a double round-trips)
        let want: Vec<f64> = a.iter().map(|v| v.as_f64()).collect();
        assert_eq!(values, want, "{name}");
    }
}

#[test]
fn deep_conv_net_f32_reads_back_bit_for_bit() {
    let net = Net::<f32>::new(NetSpec::deep_conv_net(), &mut rng_from_seed(5)).unwrap();
    check(&net, "F32", "1,28,28");
}

#[test]
fn a_batch_norm_net_f64_reads_back_with_its_running_statistics() {
    let spec = NetSpec::multi_layer_net_extend(
        6,
        &[4, 3],
        2,
        Activation::Relu,
        WeightInit::He,
        0.0,
        None,
        true,
    );
    let mut rng = rng_from_seed(2);
    let mut net = Net::<f64>::new(spec, &mut rng).unwrap();
    // a training pass moves the running statistics away from their zeros
    let x = scratchnet_tensor::randn((5, 6), 1.0, &mut rng);
    net.gradient(&x, &[0, 1, 1, 0, 1], &mut rng);
    assert!(net.state()["running_mean1"].iter().any(|&v| v != 0.0));
    check(&net, "F64", "6");
}
