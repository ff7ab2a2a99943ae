// Turns what a user names on a command line (image files, directories, glob patterns) into the sorted list of image
// files to process, for //trainer:predict.
#ifndef TRAINER_IMAGE_INPUTS_H_
#define TRAINER_IMAGE_INPUTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace trainer {

struct ImageInputOptions {
  bool recursive = true;  // walk directories' subdirectories too
  // Relative inputs are taken from here (bazel run's caller directory); empty: the current directory.
  std::string base_dir;
};

struct ImageFile {
  std::string name;  // as the user would write it: the input, or a directory input joined with the path inside it
  std::string path;  // where to read it (name, or base_dir/name when name is relative)
};

// Each input is one of:
// - an existing file: taken whatever its name or content (the decoder reports what it is);
// - a directory: its files whose extension (any case) is in ImageExtensions(), names starting with '.' (hidden files,
//   macOS "._x.jpg" metadata) left out, subdirectories walked unless !recursive (hidden ones never; symbolic links to
//   directories not followed);
// - a pattern with *, ? or [...] that names no existing path (the shell left it unexpanded: quoted, or no match
//   there): expanded with glob(3); matching files are taken, matching directories walked as above.
// The files come back sorted by name (byte order), each name once. An input that names nothing (a missing path, a
// pattern without a match) is a NOT_FOUND error naming it; an unreadable directory is an error naming it.
absl::StatusOr<std::vector<ImageFile>> CollectImageFiles(const std::vector<std::string>& inputs,
                                                         const ImageInputOptions& options);

// "jpg", "jpeg", "png", ...: the extensions a directory walk takes, lower case. Formats without a decoder (GIF, BMP,
// TIFF, HEIC, AVIF) are included so that they are reported, not silently passed over.
const std::vector<std::string>& ImageExtensions();

}  // namespace trainer

#endif  // TRAINER_IMAGE_INPUTS_H_
