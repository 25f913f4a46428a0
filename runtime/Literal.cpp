#include "runtime/Literal.h"

#include <charconv>
#include <cmath>
#include <string_view>

namespace nncc::rt {

namespace {

constexpr int kMaxDepth = 32;

/// A parsed value: a list of values, or a scalar token.
struct Node {
  size_t pos = 0, end = 0;
  bool list = false;
  std::vector<Node> items;
};

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool isDelimiter(char c) { return isSpace(c) || c == ',' || c == '[' || c == ']'; }

class LiteralParser {
public:
  explicit LiteralParser(const std::string &text) : s_(text) {}

  Expected<Tensor> parse(DType dtype) {
    skipSpace();
    if (pos_ == s_.size())
      return error(0, "the literal is empty");
    Node root;
    if (Status st = parseValue(root, 0); !st.ok())
      return st;
    skipSpace();
    if (pos_ != s_.size())
      return error(pos_, "unexpected \"" + snippet(pos_, s_.size()) + "\" after the value");
    Shape shape;
    for (const Node *n = &root; n->list; n = &n->items[0]) {
      shape.push_back(static_cast<int64_t>(n->items.size()));
      if (n->items.empty())
        break;
    }
    std::vector<const Node *> leaves;
    std::vector<int64_t> path;
    if (Status st = check(root, shape, path, leaves); !st.ok())
      return st;
    Tensor t(dtype, shape);
    for (size_t i = 0; i < leaves.size(); ++i)
      if (Status st = store(t, static_cast<int64_t>(i), *leaves[i]); !st.ok())
        return st;
    return t;
  }

private:
  Status error(size_t at, const std::string &what) const {
    // Long literals are shown around the offending column.
    std::string shown = s_;
    if (s_.size() > 60) {
      size_t from = at > 25 ? at - 25 : 0;
      shown = (from ? "..." : "") + s_.substr(from, 50) + (from + 50 < s_.size() ? "..." : "");
    }
    return Status::error("literal \"" + shown + "\", column " + std::to_string(at + 1) + ": " +
                         what);
  }
  std::string snippet(size_t from, size_t to) const {
    std::string text = s_.substr(from, to - from);
    return text.size() > 20 ? text.substr(0, 20) + "..." : text;
  }
  void skipSpace() {
    while (pos_ < s_.size() && isSpace(s_[pos_]))
      ++pos_;
  }

  Status parseValue(Node &node, int depth) {
    skipSpace();
    node.pos = pos_;
    if (pos_ == s_.size())
      return error(pos_, "expected a value, the literal ends");
    if (s_[pos_] == '[')
      return parseList(node, depth);
    if (isDelimiter(s_[pos_]))
      return error(pos_, std::string("expected a value, found '") + s_[pos_] + "'");
    while (pos_ < s_.size() && !isDelimiter(s_[pos_]))
      ++pos_;
    node.end = pos_;
    return Status();
  }

  Status parseList(Node &node, int depth) {
    if (depth >= kMaxDepth)
      return error(pos_, "lists nested deeper than " + std::to_string(kMaxDepth));
    node.list = true;
    ++pos_; // '['
    skipSpace();
    while (pos_ < s_.size() && s_[pos_] != ']') {
      node.items.emplace_back();
      if (Status st = parseValue(node.items.back(), depth + 1); !st.ok())
        return st;
      skipSpace();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        skipSpace();
      } else if (pos_ < s_.size() && s_[pos_] != ']') {
        size_t end = pos_ + 1;
        while (end < s_.size() && !isDelimiter(s_[end]))
          ++end;
        return error(pos_, "expected ',' or ']', found \"" + snippet(pos_, end) + "\"");
      }
    }
    if (pos_ == s_.size())
      return error(node.pos, "the '[' here is never closed");
    ++pos_; // ']'
    node.end = pos_;
    return Status();
  }

  static std::string describe(const std::vector<int64_t> &path) {
    if (path.size() == 1)
      return std::to_string(path[0]);
    std::string s;
    for (int64_t i : path)
      s += "[" + std::to_string(i) + "]";
    return s;
  }

  /// Every list at depth d must have shape[d] items (the first-descent
  /// lengths), and only the innermost level holds numbers.
  Status check(const Node &node, const Shape &shape, std::vector<int64_t> &path,
               std::vector<const Node *> &leaves) const {
    size_t depth = path.size();
    std::vector<int64_t> first(depth, 0);
    std::string where = depth ? "element " + describe(path) : "the value";
    if (depth < shape.size() && !node.list)
      return error(node.pos, where + " is a number, element " + describe(first) + " is a list");
    if (depth == shape.size() && node.list)
      return error(node.pos, where + " is a list, element " + describe(first) + " is a number");
    if (!node.list) {
      leaves.push_back(&node);
      return Status();
    }
    int64_t n = static_cast<int64_t>(node.items.size());
    if (n != shape[depth])
      return error(node.pos, "row " + describe(path) + " has " + std::to_string(n) +
                                 (n == 1 ? " element, row " : " elements, row ") + describe(first) +
                                 " has " + std::to_string(shape[depth]));
    for (int64_t i = 0; i < n; ++i) {
      path.push_back(i);
      Status st = check(node.items[i], shape, path, leaves);
      path.pop_back();
      if (!st.ok())
        return st;
    }
    return Status();
  }

  Status store(Tensor &t, int64_t i, const Node &leaf) const {
    std::string_view tok(s_.data() + leaf.pos, leaf.end - leaf.pos);
    std::string quoted = "\"" + snippet(leaf.pos, leaf.end) + "\"";
    auto bad = [&](const std::string &why) { return error(leaf.pos, quoted + why); };
    bool isTrue = tok == "true" || tok == "True";
    bool isFalse = tok == "false" || tok == "False";
    // from_chars takes no '+'.
    std::string_view num = tok;
    if (num.size() > 1 && num[0] == '+' && num[1] != '-')
      num.remove_prefix(1);
    const char *b = num.data(), *e = num.data() + num.size();

    if (t.dtype() == DType::F32 && !isTrue && !isFalse) {
      float v;
      auto r = std::from_chars(b, e, v);
      if (r.ec == std::errc::result_out_of_range)
        return bad(" is out of range for f32");
      if (r.ec != std::errc() || r.ptr != e)
        return bad(" is not a number");
      t.data<float>()[i] = v;
      return Status();
    }
    double v = isTrue ? 1 : 0;
    if (!isTrue && !isFalse) {
      int64_t k;
      auto ri = std::from_chars(b, e, k);
      if (ri.ptr == e && ri.ec == std::errc() &&
          (t.dtype() == DType::I32 || t.dtype() == DType::I64)) {
        // Integers exactly, beyond double's 53 bits.
        if (t.dtype() == DType::I64) {
          t.data<int64_t>()[i] = k;
          return Status();
        }
        if (k < INT32_MIN || k > INT32_MAX)
          return bad(" is out of range for i32");
        t.data<int32_t>()[i] = static_cast<int32_t>(k);
        return Status();
      }
      auto r = std::from_chars(b, e, v);
      if (r.ec == std::errc::result_out_of_range)
        return bad(std::string(" is out of range for ") + dtypeName(t.dtype()));
      if (r.ec != std::errc() || r.ptr != e)
        return bad(" is not a number");
    }
    switch (t.dtype()) {
    case DType::F32:
      t.data<float>()[i] = static_cast<float>(v);
      break;
    case DType::F64:
      t.data<double>()[i] = v;
      break;
    case DType::Bool:
      t.data<bool>()[i] = v != 0;
      break;
    case DType::I32:
    case DType::I64: {
      if (std::isnan(v) || std::isinf(v) || v != std::floor(v))
        return bad(std::string(" is not an integer (the tensor is ") + dtypeName(t.dtype()) + ")");
      bool i32 = t.dtype() == DType::I32;
      double lo = i32 ? -2147483648.0 : -9223372036854775808.0;
      double hi = i32 ? 2147483648.0 : 9223372036854775808.0;
      if (v < lo || v >= hi)
        return bad(std::string(" is out of range for ") + dtypeName(t.dtype()));
      if (i32)
        t.data<int32_t>()[i] = static_cast<int32_t>(v);
      else
        t.data<int64_t>()[i] = static_cast<int64_t>(v);
      break;
    }
    }
    return Status();
  }

  const std::string &s_;
  size_t pos_ = 0;
};

} // namespace

Expected<Tensor> parseLiteral(const std::string &text, DType dtype) {
  return LiteralParser(text).parse(dtype);
}

} // namespace nncc::rt
