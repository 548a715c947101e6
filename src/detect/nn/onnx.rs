//! ONNX model files, read with a minimal protobuf wire reader: only the
//! fields an inference graph of float tensors needs (ModelProto.graph, the
//! graph's nodes, initializers, inputs and outputs); everything else is
//! skipped. Every length and count is checked against the bytes at hand, so
//! a truncated or corrupted file is an error, never a panic.

/// What went wrong, for [`super::ModelError::Load`]'s detail.
pub(super) type Result<T> = std::result::Result<T, String>;

/// One field's payload on the wire.
enum Field<'a> {
    Varint(u64),
    /// A double or fixed64: no field read here has one.
    Fixed64,
    Bytes(&'a [u8]),
    Fixed32(u32),
}

impl<'a> Field<'a> {
    fn bytes(&self, what: &str) -> Result<&'a [u8]> {
        match self {
            Field::Bytes(b) => Ok(b),
            _ => Err(format!("{what} is not length-delimited")),
        }
    }

    fn varint(&self, what: &str) -> Result<u64> {
        match self {
            Field::Varint(v) => Ok(*v),
            _ => Err(format!("{what} is not a varint")),
        }
    }

    fn string(&self, what: &str) -> Result<String> {
        String::from_utf8(self.bytes(what)?.to_vec()).map_err(|_| format!("{what} is not UTF-8"))
    }

    /// A repeated int64 field, packed or one value per field.
    fn push_ints(&self, out: &mut Vec<i64>, what: &str) -> Result<()> {
        match self {
            // Two's complement: negative int64 values take ten bytes.
            Field::Varint(v) => out.push(*v as i64),
            Field::Bytes(b) => {
                let mut w = Wire { buf: b };
                while !w.buf.is_empty() {
                    out.push(w.varint()? as i64);
                }
            }
            _ => return Err(format!("{what} is not an int64 list")),
        }
        Ok(())
    }

    /// A repeated float field, packed or one value per field.
    fn push_floats(&self, out: &mut Vec<f32>, what: &str) -> Result<()> {
        match self {
            Field::Fixed32(v) => out.push(f32::from_bits(*v)),
            Field::Bytes(b) => out.extend(le_f32(b, what)?),
            _ => return Err(format!("{what} is not a float list")),
        }
        Ok(())
    }
}

fn le_f32<'a>(b: &'a [u8], what: &str) -> Result<impl Iterator<Item = f32> + 'a> {
    if !b.len().is_multiple_of(4) {
        return Err(format!("{what}: {} bytes is not whole floats", b.len()));
    }
    Ok(b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
}

/// The protobuf wire format: a sequence of (field number, payload).
struct Wire<'a> {
    buf: &'a [u8],
}

impl<'a> Wire<'a> {
    fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for i in 0..10 {
            let (&b, rest) = self.buf.split_first().ok_or("truncated varint")?;
            self.buf = rest;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("varint longer than ten bytes".into())
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8]> {
        let n = usize::try_from(n).map_err(|_| "field length out of range")?;
        if n > self.buf.len() {
            return Err(format!(
                "truncated: a field of {n} bytes with {} left",
                self.buf.len()
            ));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn next(&mut self) -> Result<Option<(u64, Field<'a>)>> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let (number, kind) = (key >> 3, key & 7);
        if number == 0 {
            return Err("field number 0".into());
        }
        let field = match kind {
            0 => Field::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Field::Fixed64
            }
            2 => {
                let n = self.varint()?;
                Field::Bytes(self.take(n)?)
            }
            5 => {
                let b = self.take(4)?;
                Field::Fixed32(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            }
            _ => return Err(format!("unsupported wire type {kind} (field {number})")),
        };
        Ok(Some((number, field)))
    }

    /// Calls `f` for every field of the message.
    fn each(buf: &'a [u8], mut f: impl FnMut(u64, Field<'a>) -> Result<()>) -> Result<()> {
        let mut w = Wire { buf };
        while let Some((number, field)) = w.next()? {
            f(number, field)?;
        }
        Ok(())
    }
}

/// A constant tensor (initializer or attribute value).
#[derive(Debug, Clone)]
pub(super) struct Tensor {
    pub name: String,
    pub dims: Vec<usize>,
    pub data: Data,
}

#[derive(Debug, Clone)]
pub(super) enum Data {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

impl Tensor {
    fn parse(buf: &[u8]) -> Result<Self> {
        const FLOAT: u64 = 1;
        const INT64: u64 = 7;
        let (mut dims, mut data_type, mut name) = (Vec::new(), 0, String::new());
        let (mut floats, mut ints, mut raw) = (Vec::new(), Vec::new(), None);
        let mut external = false;
        Wire::each(buf, |number, f| {
            match number {
                1 => f.push_ints(&mut dims, "tensor dims")?,
                2 => data_type = f.varint("tensor data_type")?,
                4 => f.push_floats(&mut floats, "tensor float_data")?,
                7 => f.push_ints(&mut ints, "tensor int64_data")?,
                8 => name = f.string("tensor name")?,
                9 => raw = Some(f.bytes("tensor raw_data")?),
                14 => external = f.varint("tensor data_location")? == 1,
                _ => {}
            }
            Ok(())
        })?;
        let what = || format!("tensor '{name}'");
        if external {
            return Err(format!("{} keeps its data in an external file", what()));
        }
        let dims = dims
            .into_iter()
            .map(|d| usize::try_from(d).map_err(|_| format!("{}: dimension {d}", what())))
            .collect::<Result<Vec<_>>>()?;
        let count = dims
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .ok_or_else(|| format!("{}: too many elements", what()))?;
        let data = match data_type {
            FLOAT => Data::F32(match raw {
                Some(b) => le_f32(b, &what())?.collect(),
                None => floats,
            }),
            INT64 => Data::I64(match raw {
                Some(b) if b.len().is_multiple_of(8) => b
                    .chunks_exact(8)
                    .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                    .collect(),
                Some(b) => return Err(format!("{}: {} bytes of int64", what(), b.len())),
                None => ints,
            }),
            t => return Err(format!("{}: unsupported data type {t}", what())),
        };
        let len = match &data {
            Data::F32(v) => v.len(),
            Data::I64(v) => v.len(),
        };
        if len != count {
            return Err(format!("{}: {len} values for shape {dims:?}", what()));
        }
        Ok(Self { name, dims, data })
    }
}

/// An attribute value of the kinds the supported operators use (floats
/// and tensors are read, checked, and kept as [`Attr::Other`]).
#[derive(Debug, Clone)]
pub(super) enum Attr {
    Int(i64),
    Ints(Vec<i64>),
    Text(String),
    Other,
}

fn parse_attr(buf: &[u8]) -> Result<(String, Attr)> {
    let (mut name, mut kind) = (String::new(), 0);
    let (mut f, mut i, mut s, mut t, mut ints) = (None, None, None, None, Vec::new());
    Wire::each(buf, |number, field| {
        match number {
            1 => name = field.string("attribute name")?,
            2 => match field {
                Field::Fixed32(v) => f = Some(f32::from_bits(v)),
                _ => return Err("attribute f is not a float".into()),
            },
            3 => i = Some(field.varint("attribute i")? as i64),
            4 => s = Some(field.string("attribute s")?),
            5 => t = Some(Tensor::parse(field.bytes("attribute t")?)?),
            8 => field.push_ints(&mut ints, "attribute ints")?,
            20 => kind = field.varint("attribute type")?,
            _ => {}
        }
        Ok(())
    })?;
    // AttributeProto.AttributeType; writers before IR 3 left it unset.
    let attr = match (kind, f, i, s, t) {
        (2, _, Some(v), ..) | (0, None, Some(v), None, None) => Attr::Int(v),
        (3, _, _, Some(v), _) | (0, None, None, Some(v), None) => Attr::Text(v),
        (7, ..) => Attr::Ints(ints),
        (0, None, None, None, None) if !ints.is_empty() => Attr::Ints(ints),
        _ => Attr::Other,
    };
    Ok((name, attr))
}

/// One operator application.
#[derive(Debug, Clone)]
pub(super) struct Node {
    pub name: String,
    pub op: String,
    /// Value names; an empty name is an omitted optional input.
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub attrs: Vec<(String, Attr)>,
}

impl Node {
    fn parse(buf: &[u8]) -> Result<Self> {
        let mut node = Node {
            name: String::new(),
            op: String::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            attrs: Vec::new(),
        };
        let mut domain = String::new();
        Wire::each(buf, |number, f| {
            match number {
                1 => node.inputs.push(f.string("node input")?),
                2 => node.outputs.push(f.string("node output")?),
                3 => node.name = f.string("node name")?,
                4 => node.op = f.string("node op_type")?,
                5 => node.attrs.push(parse_attr(f.bytes("node attribute")?)?),
                7 => domain = f.string("node domain")?,
                _ => {}
            }
            Ok(())
        })?;
        if !domain.is_empty() && domain != "ai.onnx" {
            return Err(format!(
                "operator {}:{} (node '{}') is not supported",
                domain, node.op, node.name
            ));
        }
        Ok(node)
    }

    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|(n, _)| n == name).map(|(_, a)| a)
    }
}

/// A graph input or output: its name and, if declared, its dimensions
/// (`None` for a symbolic one).
#[derive(Debug, Clone)]
pub(super) struct ValueInfo {
    pub name: String,
    pub dims: Option<Vec<Option<u64>>>,
}

impl ValueInfo {
    fn parse(buf: &[u8]) -> Result<Self> {
        let mut info = ValueInfo {
            name: String::new(),
            dims: None,
        };
        Wire::each(buf, |number, f| {
            match number {
                1 => info.name = f.string("value name")?,
                // TypeProto.tensor_type -> Tensor.shape -> Dimension
                2 => Wire::each(f.bytes("value type")?, |n, f| {
                    if n == 1 {
                        Wire::each(f.bytes("tensor type")?, |n, f| {
                            if n == 2 {
                                let dims = info.dims.get_or_insert_with(Vec::new);
                                Wire::each(f.bytes("shape")?, |n, f| {
                                    if n == 1 {
                                        let mut value = None;
                                        Wire::each(f.bytes("dimension")?, |n, f| {
                                            if n == 1 {
                                                value = Some(f.varint("dim_value")?);
                                            }
                                            Ok(())
                                        })?;
                                        dims.push(value);
                                    }
                                    Ok(())
                                })?;
                            }
                            Ok(())
                        })?;
                    }
                    Ok(())
                })?,
                _ => {}
            }
            Ok(())
        })?;
        Ok(info)
    }
}

/// The parts of an ONNX graph that inference needs.
#[derive(Debug, Clone)]
pub(super) struct Graph {
    pub nodes: Vec<Node>,
    pub initializers: Vec<Tensor>,
    pub inputs: Vec<ValueInfo>,
    pub outputs: Vec<ValueInfo>,
}

/// Parses a serialized `ModelProto`.
pub(super) fn parse(bytes: &[u8]) -> Result<Graph> {
    let mut graph = None;
    Wire::each(bytes, |number, f| {
        if number == 7 {
            graph = Some(f.bytes("graph")?);
        }
        Ok(())
    })?;
    let buf = graph.ok_or("no graph (is this an ONNX model?)")?;
    let mut g = Graph {
        nodes: Vec::new(),
        initializers: Vec::new(),
        inputs: Vec::new(),
        outputs: Vec::new(),
    };
    Wire::each(buf, |number, f| {
        match number {
            1 => g.nodes.push(Node::parse(f.bytes("node")?)?),
            5 => g.initializers.push(Tensor::parse(f.bytes("initializer")?)?),
            11 => g.inputs.push(ValueInfo::parse(f.bytes("graph input")?)?),
            12 => g.outputs.push(ValueInfo::parse(f.bytes("graph output")?)?),
            _ => {}
        }
        Ok(())
    })?;
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_packed_and_unpacked_lists_read_the_same() {
        // dims = [3, 300] one per field, then data_type 7, int64_data packed
        // [-1, 5], name "k".
        let mut buf = vec![0x08, 3, 0x08, 0xac, 0x02, 0x10, 7];
        buf.extend([0x3a, 11]);
        buf.extend([0xff; 9]);
        buf.extend([0x01, 5]);
        buf.extend([0x42, 1, b'k']);
        // One value too few for the shape 3x300.
        let err = Tensor::parse(&buf).unwrap_err();
        assert!(err.contains("2 values for shape [3, 300]"), "{err}");
        let buf = [
            0x08, 2, 0x10, 7, 0x3a, 11, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
            5,
        ];
        let t = Tensor::parse(&buf).unwrap();
        assert!(matches!(t.data, Data::I64(ref v) if v == &[-1, 5]));
    }

    #[test]
    fn truncated_messages_are_errors() {
        assert!(parse(&[0x3a, 0x05, 0x0a]).is_err());
        assert!(parse(&[0x80]).is_err());
        assert!(parse(&[0x0b]).unwrap_err().contains("wire type 3"));
        assert!(parse(&[]).unwrap_err().contains("no graph"));
    }
}
