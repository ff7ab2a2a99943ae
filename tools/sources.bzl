"""package_sources: the :sources filegroup of every package that //tools:layering_test checks."""

def package_sources():
    """Declares :sources, every .cc, .h and .proto file of this package, for //tools:layering_test.

    The test checks each file's includes and proto imports against the dependency picture in tools/README.md. Its
    package list, LAYERED_PACKAGES in tools/BUILD, names `<package>:sources`, so the name is fixed. The glob reaches
    into subdirectories that are not packages of their own (trainer/main/): their files belong to this package's layer.
    """
    native.filegroup(
        name = "sources",
        srcs = native.glob(["**/*.cc", "**/*.h", "**/*.proto"]),
        visibility = ["//tools:__pkg__"],
    )
