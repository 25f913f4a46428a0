#include "runtime/Npy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <string_view>

namespace nncc::rt {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the .npy reader and writer assume a little-endian host");

namespace {

constexpr std::string_view kMagic("\x93NUMPY", 6);
constexpr const char *kSupported = "'<f4', '<f8', '<i4', '<i8', '|b1'";

struct Header {
  DType dtype = DType::F32;
  Shape shape;
  int64_t count = 1;
  uint64_t dataOffset = 0;
};

Status fail(const std::string &name, const std::string &what) {
  return Status::error(name + ": " + what);
}

/// Bytes as they would appear in a Python bytes literal, for bad magic.
std::string escaped(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

/// Checks the magic and version, and returns where the header dict starts
/// and how long it is. `head` holds the first (up to) 12 bytes.
Expected<std::pair<uint64_t, uint64_t>> parsePreamble(std::string_view head, uint64_t total,
                                                      const std::string &name) {
  std::string_view magic = head.substr(0, kMagic.size());
  if (magic != kMagic.substr(0, magic.size()) || total == 0)
    return fail(name, "not a .npy file: bad magic (expected \"\\x93NUMPY\", found \"" +
                          escaped(magic) + "\")");
  if (head.size() < 8)
    return fail(name, "truncated header: the file has only " + std::to_string(total) + " bytes");
  int major = static_cast<unsigned char>(head[6]);
  int minor = static_cast<unsigned char>(head[7]);
  if ((major != 1 && major != 2) || minor != 0)
    return fail(name, "unsupported .npy version " + std::to_string(major) + "." +
                          std::to_string(minor) + " (supported: 1.0, 2.0)");
  size_t lenBytes = major == 1 ? 2 : 4;
  if (head.size() < 8 + lenBytes)
    return fail(name, "truncated header: the file has only " + std::to_string(total) + " bytes");
  uint64_t len = 0;
  for (size_t i = 0; i < lenBytes; ++i)
    len |= uint64_t(static_cast<unsigned char>(head[8 + i])) << (8 * i);
  uint64_t offset = 8 + lenBytes;
  if (len > total - offset)
    return fail(name, "truncated header: it says " + std::to_string(len) + " bytes, the file has " +
                          std::to_string(total - offset) + " after the preamble");
  return std::make_pair(offset, len);
}

/// The header dict, a Python literal such as
/// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }
class DictParser {
public:
  DictParser(std::string_view text, const std::string &name) : s_(text), name_(name) {}

  Expected<Header> parse() {
    if (!expect('{'))
      return error("expected '{'");
    std::map<std::string, bool> seen;
    Header h;
    skipSpace();
    while (pos_ < s_.size() && s_[pos_] != '}') {
      std::string key;
      if (!parseString(key))
        return error("expected a quoted key");
      if (seen[key])
        return error("duplicate key '" + key + "'");
      seen[key] = true;
      if (!expect(':'))
        return error("expected ':' after '" + key + "'");
      skipSpace();
      Status st = key == "descr"           ? parseDescr(h)
                  : key == "fortran_order" ? parseFortranOrder()
                  : key == "shape"         ? parseShape(h)
                                           : error("unexpected key '" + key + "'");
      if (!st.ok())
        return st;
      skipSpace();
      if (pos_ < s_.size() && s_[pos_] == ',')
        ++pos_;
      else if (pos_ >= s_.size() || s_[pos_] != '}')
        return error("expected ',' or '}'");
      skipSpace();
    }
    if (!expect('}'))
      return error("expected '}'");
    skipSpace();
    if (pos_ != s_.size())
      return error("unexpected text after the dict");
    for (const char *key : {"descr", "fortran_order", "shape"})
      if (!seen[key])
        return error(std::string("missing key '") + key + "'");
    return h;
  }

private:
  Status error(const std::string &what) const {
    std::string text(s_.substr(0, 200));
    while (!text.empty() && (text.back() == ' ' || text.back() == '\n'))
      text.pop_back();
    return fail(name_,
                "malformed header: " + what + " at offset " + std::to_string(pos_) + " of " + text);
  }
  void skipSpace() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  bool expect(char c) {
    skipSpace();
    if (pos_ >= s_.size() || s_[pos_] != c)
      return false;
    ++pos_;
    return true;
  }
  bool parseString(std::string &out) {
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"'))
      return false;
    size_t end = s_.find(s_[pos_], pos_ + 1);
    if (end == std::string_view::npos)
      return false;
    out = std::string(s_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return true;
  }
  Status parseDescr(Header &h) {
    std::string d;
    if (!parseString(d))
      return error("expected a quoted dtype for 'descr'");
    if (d == "<f4")
      h.dtype = DType::F32;
    else if (d == "<f8")
      h.dtype = DType::F64;
    else if (d == "<i4")
      h.dtype = DType::I32;
    else if (d == "<i8")
      h.dtype = DType::I64;
    else if (d == "|b1")
      h.dtype = DType::Bool;
    else
      return fail(name_, "unsupported dtype '" + d + "' (supported: " + kSupported + ")");
    return Status();
  }
  Status parseFortranOrder() {
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return Status();
    }
    if (s_.substr(pos_, 4) == "True")
      return fail(name_, "the array is in Fortran order; only C order is supported "
                         "(save np.ascontiguousarray(a))");
    return error("expected True or False for 'fortran_order'");
  }
  Status parseShape(Header &h) {
    if (!expect('('))
      return error("expected a tuple for 'shape'");
    skipSpace();
    while (pos_ < s_.size() && s_[pos_] != ')') {
      if (!std::isdigit(static_cast<unsigned char>(s_[pos_])))
        return error("expected a non-negative dimension");
      int64_t d = 0;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
        d = d * 10 + (s_[pos_++] - '0');
        if (d > kMaxElements)
          return fail(name_, "shape dimension " + std::to_string(h.shape.size()) +
                                 " exceeds 2^34 elements");
      }
      if (pos_ < s_.size() && s_[pos_] == 'L') // Python 2 longs
        ++pos_;
      h.shape.push_back(d);
      skipSpace();
      if (pos_ < s_.size() && s_[pos_] == ',')
        ++pos_;
      else if (pos_ >= s_.size() || s_[pos_] != ')')
        return error("expected ',' or ')' in 'shape'");
      skipSpace();
    }
    if (!expect(')'))
      return error("expected ')' closing 'shape'");
    h.count = 1;
    for (int64_t d : h.shape) {
      if (d != 0 && h.count > kMaxElements / d)
        return fail(name_, "shape " + shapeString(h.shape) + " has more than 2^34 elements");
      h.count *= d;
    }
    return Status();
  }

  std::string_view s_;
  const std::string &name_;
  size_t pos_ = 0;
};

/// Parses the dict and checks the data that follows against the shape.
Expected<Header> parseHeader(std::string_view dict, uint64_t dataOffset, uint64_t total,
                             const std::string &name) {
  Expected<Header> h = DictParser(dict, name).parse();
  if (!h)
    return h;
  h->dataOffset = dataOffset;
  uint64_t need = uint64_t(h->count) * dtypeSize(h->dtype);
  uint64_t have = total - dataOffset;
  if (have < need)
    return fail(name, "data shorter than the shape says: " + shapeString(h->shape) + " of " +
                          dtypeName(h->dtype) + " needs " + std::to_string(need) +
                          " bytes, the file has " + std::to_string(have));
  if (have > need)
    return fail(name, std::to_string(have - need) +
                          " bytes of unexpected data after the array of shape " +
                          shapeString(h->shape));
  return h;
}

/// numpy stores bools as bytes; anything but 0 is true.
void normalizeBools(Tensor &t) {
  if (t.dtype() != DType::Bool)
    return;
  auto *p = static_cast<unsigned char *>(t.data());
  for (int64_t i = 0; i < t.size(); ++i)
    p[i] = p[i] != 0;
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0)
      ::close(fd);
  }
};

bool readFully(int fd, char *out, size_t n) {
  while (n > 0) {
    ssize_t got = ::read(fd, out, std::min<size_t>(n, size_t(1) << 30));
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return false;
    out += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

bool writeFully(int fd, const char *data, size_t n) {
  while (n > 0) {
    ssize_t put = ::write(fd, data, std::min<size_t>(n, size_t(1) << 30));
    if (put < 0 && errno == EINTR)
      continue;
    if (put <= 0)
      return false;
    data += put;
    n -= static_cast<size_t>(put);
  }
  return true;
}

Expected<std::string> headerFor(const Tensor &t) {
  if (!t.valid())
    return Status::error("cannot write a tensor without data");
  for (int64_t d : t.shape())
    if (d < 0)
      return Status::error("cannot write a tensor of unknown shape " + shapeString(t.shape()));
  const char *descr = "";
  switch (t.dtype()) {
  case DType::F32:
    descr = "<f4";
    break;
  case DType::F64:
    descr = "<f8";
    break;
  case DType::I32:
    descr = "<i4";
    break;
  case DType::I64:
    descr = "<i8";
    break;
  case DType::Bool:
    descr = "|b1";
    break;
  }
  std::string dict = std::string("{'descr': '") + descr +
                     "', 'fortran_order': False, 'shape': " + shapeString(t.shape()) + ", }";
  // Like numpy: pad with spaces and a newline so the data starts at a
  // multiple of 64 bytes; version 2.0 only when the length needs 4 bytes.
  size_t preamble = 10;
  size_t padded = (preamble + dict.size() + 1 + 63) / 64 * 64 - preamble;
  if (padded > 65535) {
    preamble = 12;
    padded = (preamble + dict.size() + 1 + 63) / 64 * 64 - preamble;
  }
  std::string out(kMagic);
  out += preamble == 10 ? '\x01' : '\x02';
  out += '\0';
  for (size_t i = 0; i < preamble - 8; ++i)
    out += static_cast<char>((padded >> (8 * i)) & 0xff);
  out += dict;
  out.append(padded - dict.size() - 1, ' ');
  out += '\n';
  return out;
}

/// The data bytes of `t`, with bools stored as 0/1 bytes.
std::string_view dataOf(const Tensor &t, std::string &boolScratch) {
  if (t.dtype() != DType::Bool)
    return std::string_view(static_cast<const char *>(t.data()), t.bytes());
  boolScratch.resize(t.bytes());
  for (int64_t i = 0; i < t.size(); ++i)
    boolScratch[i] = t.data<bool>()[i] ? 1 : 0;
  return boolScratch;
}

} // namespace

Expected<Tensor> readNpyBytes(const std::string &bytes, const std::string &nameForErrors) {
  std::string_view all(bytes);
  auto pre = parsePreamble(all.substr(0, 12), all.size(), nameForErrors);
  if (!pre)
    return pre.status();
  auto [offset, len] = *pre;
  Expected<Header> h =
      parseHeader(all.substr(offset, len), offset + len, all.size(), nameForErrors);
  if (!h)
    return h.status();
  Tensor t(h->dtype, h->shape);
  if (!t.valid())
    return fail(nameForErrors, "out of memory for an array of shape " + shapeString(h->shape));
  if (t.bytes())
    std::memcpy(t.data(), all.data() + h->dataOffset, t.bytes());
  normalizeBools(t);
  return t;
}

Expected<Tensor> readNpy(const std::string &path) {
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0)
    return fail(path, std::string("cannot open the .npy file: ") + std::strerror(errno));
  struct stat st;
  if (::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode))
    return fail(path, "not a regular file");
  uint64_t total = static_cast<uint64_t>(st.st_size);
  std::string head(std::min<uint64_t>(total, 12), '\0');
  if (!readFully(f.fd, head.data(), head.size()))
    return fail(path, std::string("read error: ") + std::strerror(errno));
  auto pre = parsePreamble(head, total, path);
  if (!pre)
    return pre.status();
  auto [offset, len] = *pre;
  // The preamble is 10 or 12 bytes; `head` may hold the dict's first bytes.
  std::string dict = head.substr(offset);
  size_t had = dict.size();
  dict.resize(len);
  if (len > had && !readFully(f.fd, dict.data() + had, len - had))
    return fail(path, "truncated header");
  Expected<Header> h = parseHeader(dict, offset + len, total, path);
  if (!h)
    return h.status();
  Tensor t(h->dtype, h->shape);
  if (!t.valid())
    return fail(path, "out of memory for an array of shape " + shapeString(h->shape));
  if (t.bytes() && !readFully(f.fd, static_cast<char *>(t.data()), t.bytes()))
    return fail(path, "data shorter than the shape says (the file shrank while "
                      "being read)");
  normalizeBools(t);
  return t;
}

Expected<std::string> writeNpyBytes(const Tensor &t) {
  Expected<std::string> out = headerFor(t);
  if (!out)
    return out;
  std::string scratch;
  out->append(dataOf(t, scratch));
  return out;
}

Status writeNpy(const std::string &path, const Tensor &t) {
  Expected<std::string> header = headerFor(t);
  if (!header)
    return fail(path, header.error());
  std::string tmp = path + ".tmp.XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0)
    return fail(path,
                std::string("cannot create a temporary file beside it: ") + std::strerror(errno));
  // mkstemp creates the file 0600; a saved array is an ordinary file.
  ::fchmod(fd, 0644);
  std::string scratch;
  std::string_view data = dataOf(t, scratch);
  bool ok = writeFully(fd, header->data(), header->size()) &&
            writeFully(fd, data.data(), data.size()) && ::fsync(fd) == 0;
  int err = errno;
  if (::close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    return fail(path, std::string("cannot write the .npy file: ") + std::strerror(err));
  }
  return Status();
}

} // namespace nncc::rt
