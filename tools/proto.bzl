"""cc_proto: C++ code for .proto files from the system protoc (Debian protobuf-compiler).

Bazel's proto_library would fetch @com_google_protobuf, which cannot happen offline. This runs /usr/bin/protoc in a
genrule and wraps the generated .pb.h/.pb.cc in a cc_library linked against the system libprotobuf.
"""

def cc_proto(name, srcs, deps = [], visibility = None):
    """Generates NAME (a cc_library) from srcs; deps are other cc_proto targets whose .proto files srcs import."""
    headers = [src.replace(".proto", ".pb.h") for src in srcs]
    sources = [src.replace(".proto", ".pb.cc") for src in srcs]
    native.genrule(
        name = name + "_genproto",
        srcs = srcs + [dep + "_srcs" for dep in deps],
        outs = headers + sources,
        cmd = "/usr/bin/protoc --proto_path=. --cpp_out=$(GENDIR) " + " ".join(["$(location %s)" % s for s in srcs]),
    )
    native.filegroup(
        name = name + "_srcs",
        srcs = srcs + [dep + "_srcs" for dep in deps],
        visibility = visibility,
    )
    native.cc_library(
        name = name,
        srcs = sources,
        hdrs = headers,
        deps = deps + ["@protobuf"],
        visibility = visibility,
    )
