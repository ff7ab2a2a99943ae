#include "data/coco/label_space.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "data/coco/coco_categories.h"

namespace coco::data {

LabelSpace::LabelSpace(std::vector<std::string> names) : names_(std::move(names)) {
  for (size_t i = 0; i < names_.size(); ++i) index_.emplace(names_[i], static_cast<int32_t>(i));
}

absl::StatusOr<LabelSpace> LabelSpace::Create(std::vector<std::string> class_names) {
  std::unordered_map<std::string, int> seen;
  for (const std::string& name : class_names) {
    if (++seen[name] > 1) return absl::InvalidArgumentError("label space: class name '" + name + "' appears twice");
    // classes.txt, label_mapping.tsv and checkpoints store one name per line: it must read back as written.
    if (name.empty() || name.front() == ' ' || name.back() == ' ' || name.front() == '#' ||
        name.find_first_of("\t\n\r") != std::string::npos) {
      return absl::InvalidArgumentError("label space: class name '" + name +
                                        "' is empty, starts with '#', has surrounding spaces, a tab or a line break");
    }
  }
  return LabelSpace(std::move(class_names));
}

LabelSpace LabelSpace::FromDataset(const CocoDataset& dataset) {
  std::vector<std::string> names;
  for (const Category& category : dataset.categories) names.push_back(category.name);
  return LabelSpace(std::move(names));  // the reader already rejects duplicate names
}

int32_t LabelSpace::IndexOf(const std::string& name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? -1 : it->second;
}

const std::map<std::string, std::string>& VocToCocoAliases() {
  static const auto* aliases = new std::map<std::string, std::string>{
      {"aeroplane", "airplane"}, {"motorbike", "motorcycle"},     {"sofa", "couch"},
      {"tvmonitor", "tv"},       {"diningtable", "dining table"}, {"pottedplant", "potted plant"}};
  return *aliases;
}

absl::StatusOr<std::map<std::string, std::string>> ParseAliases(bool voc, const std::vector<std::string>& entries,
                                                                const std::string& what) {
  std::map<std::string, std::string> aliases;
  if (voc) aliases = VocToCocoAliases();
  for (const std::string& entry : entries) {
    const size_t equals = entry.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == entry.size()) {
      return absl::InvalidArgumentError(what + ": expected \"old name=new name\", got \"" + entry + "\"");
    }
    aliases[entry.substr(0, equals)] = entry.substr(equals + 1);
  }
  return aliases;
}

void ApplyAliases(const std::map<std::string, std::string>& aliases, CocoDataset& dataset) {
  // New category list: the first category to carry a (renamed) name keeps its place; later ones merge into it.
  std::vector<Category> merged;
  std::vector<int64_t> counts;
  std::vector<std::string> names_in_file;
  std::map<std::string, int32_t> index_of_name;
  std::vector<int32_t> new_index(dataset.categories.size());
  for (size_t i = 0; i < dataset.categories.size(); ++i) {
    Category category = dataset.categories[i];
    std::string in_file = i < dataset.category_names_in_file.size() ? dataset.category_names_in_file[i] : "";
    if (const auto alias = aliases.find(category.name); alias != aliases.end()) {
      if (in_file.empty()) in_file = category.name;
      category.name = alias->second;
    }
    const auto [it, inserted] = index_of_name.emplace(category.name, static_cast<int32_t>(merged.size()));
    if (inserted) {
      merged.push_back(category);
      counts.push_back(0);
      names_in_file.push_back(in_file);
    }
    new_index[i] = it->second;
    if (i < dataset.category_annotations.size())
      counts[static_cast<size_t>(it->second)] += dataset.category_annotations[i];
  }
  for (Image& image : dataset.images) {
    for (int32_t& label : image.labels) label = new_index[static_cast<size_t>(label)];
    std::sort(image.labels.begin(), image.labels.end());
    image.labels.erase(std::unique(image.labels.begin(), image.labels.end()), image.labels.end());
  }
  dataset.categories = std::move(merged);
  dataset.category_annotations = std::move(counts);
  dataset.category_names_in_file = std::move(names_in_file);
}

std::vector<std::string> AliasNames(const std::vector<std::string>& names,
                                    const std::map<std::string, std::string>& aliases) {
  std::vector<std::string> renamed;
  for (const std::string& name : names) {
    const auto alias = aliases.find(name);
    renamed.push_back(alias == aliases.end() ? name : alias->second);
  }
  return renamed;
}

absl::StatusOr<std::vector<std::string>> ReadClassList(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("cannot read class list '" + path + "'");
  std::vector<std::string> names;
  std::map<std::string, int> line_of;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const size_t begin = line.find_first_not_of(" \t\r");
    if (begin == std::string::npos || line[begin] == '#') continue;
    const std::string name = line.substr(begin, line.find_last_not_of(" \t\r") + 1 - begin);
    if (const auto [it, inserted] = line_of.emplace(name, number); !inserted) {
      return absl::InvalidArgumentError(path + ":" + std::to_string(number) + ": class '" + name +
                                        "' is already on line " + std::to_string(it->second));
    }
    names.push_back(name);
  }
  if (names.empty()) return absl::InvalidArgumentError(path + ": no class names (one per line expected)");
  return names;
}

absl::StatusOr<LabelSpace> BuildLabelSpace(LabelSpaceKind kind, const std::vector<std::string>& list,
                                           const std::vector<const CocoDataset*>& training, std::string* chosen) {
  std::set<std::string> used;
  for (const CocoDataset* dataset : training) {
    for (size_t i = 0; i < dataset->categories.size(); ++i) {
      if (i < dataset->category_annotations.size() && dataset->category_annotations[i] > 0) {
        used.insert(dataset->categories[i].name);
      }
    }
  }
  std::vector<std::string> coco;
  for (const Category& category : Coco2017Categories()) coco.push_back(category.name);
  std::string description;
  if (kind == LabelSpaceKind::kAuto) {
    const std::set<std::string> coco_names(coco.begin(), coco.end());
    const bool all_coco = std::all_of(used.begin(), used.end(), [&](const auto& n) { return coco_names.count(n); });
    kind = all_coco ? LabelSpaceKind::kCoco80 : LabelSpaceKind::kUnion;
    description = all_coco ? " (auto: every category used is a COCO category)"
                           : " (auto: some category used is not a COCO category)";
  }
  absl::StatusOr<LabelSpace> space = absl::InternalError("unknown label space kind");
  switch (kind) {
    case LabelSpaceKind::kCoco80:
      description = "COCO80" + description;
      space = LabelSpace::Create(coco);
      break;
    case LabelSpaceKind::kUnion:
      description = "UNION of the categories the training annotations use" + description;
      if (used.empty()) return absl::InvalidArgumentError("label space UNION: no training annotation uses a category");
      space = LabelSpace::Create({used.begin(), used.end()});
      break;
    case LabelSpaceKind::kList:
      description = "LIST";
      if (list.empty()) return absl::InvalidArgumentError("label space LIST: the class list is empty");
      space = LabelSpace::Create(list);
      break;
    case LabelSpaceKind::kAuto: break;
  }
  if (space.ok() && chosen != nullptr) {
    *chosen = description + ", " + std::to_string(space->size()) + " classes";
    // Exporters disagree on case and stray spaces ("Person", "car "); name matching is exact, so say so.
    std::map<std::string, std::string> first_of;
    for (const std::string& name : space->names()) {
      std::string key;
      for (char c : name) {
        if (c != ' ') key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      const auto [it, inserted] = first_of.emplace(key, name);
      if (!inserted) {
        *chosen += "; note: classes '" + it->second + "' and '" + name +
                   "' differ only in case or spaces (an alias merges them)";
      }
    }
  }
  return space;
}

std::string LabelMappingReport::ToString() const {
  std::ostringstream out;
  out << mapped.size() << " categories mapped, " << dropped.size() << " dropped";
  if (!unused.empty()) out << ", " << unused.size() << " unused dropped";
  for (const auto& [name, index] : mapped) out << "\n  " << name << " -> " << index;
  for (const std::string& name : dropped) out << "\n  " << name << " -> dropped";
  for (const std::string& name : unused) out << "\n  " << name << " -> dropped (no annotation uses it)";
  return out.str();
}

absl::StatusOr<LabelMappingReport> MapToLabelSpace(const LabelSpace& space, bool drop_unknown, CocoDataset& dataset) {
  LabelMappingReport report;
  report.source = dataset.source;
  std::vector<int32_t> new_index(dataset.categories.size(), -1);
  for (size_t i = 0; i < dataset.categories.size(); ++i) {
    const std::string& name = dataset.categories[i].name;
    const int64_t annotations = i < dataset.category_annotations.size() ? dataset.category_annotations[i] : 0;
    new_index[i] = space.IndexOf(name);
    const std::string& in_file = i < dataset.category_names_in_file.size() && !dataset.category_names_in_file[i].empty()
                                     ? dataset.category_names_in_file[i]
                                     : name;
    report.rows.push_back({in_file, dataset.categories[i].id, new_index[i], annotations});
    if (new_index[i] >= 0) {
      report.mapped.emplace_back(name, new_index[i]);
    } else if (annotations == 0) {
      report.unused.push_back(name);
    } else if (drop_unknown) {
      report.dropped.push_back(name);
    } else {
      return absl::InvalidArgumentError(dataset.source + ": category '" + name + "' (id " +
                                        std::to_string(dataset.categories[i].id) + ") is not in the label space (" +
                                        std::to_string(annotations) +
                                        " annotations use it); add an alias for it, choose another label space, or "
                                        "set data.label_space.drop_unknown");
    }
  }
  std::vector<int64_t> counts(space.names().size(), 0);
  for (size_t i = 0; i < new_index.size(); ++i) {
    if (new_index[i] >= 0) counts[static_cast<size_t>(new_index[i])] += report.rows[i].annotations;
  }
  std::vector<bool> labelled(space.names().size(), false);
  for (int32_t index : new_index) {
    if (index >= 0) labelled[static_cast<size_t>(index)] = true;
  }
  for (size_t c = 0; c < labelled.size(); ++c) {
    if (!labelled[c]) report.unlabelled_classes.push_back(static_cast<int32_t>(c));
  }
  for (Image& image : dataset.images) {
    image.unlabelled = report.unlabelled_classes;
    std::vector<int32_t> labels;
    for (int32_t label : image.labels) {
      if (new_index[static_cast<size_t>(label)] >= 0) labels.push_back(new_index[static_cast<size_t>(label)]);
    }
    std::sort(labels.begin(), labels.end());
    labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
    image.labels = std::move(labels);
  }
  dataset.categories.clear();
  for (size_t i = 0; i < space.names().size(); ++i) {
    dataset.categories.push_back({static_cast<int64_t>(i), space.names()[i], ""});
  }
  dataset.category_annotations = std::move(counts);
  dataset.category_names_in_file.clear();
  return report;
}

namespace {

// The class column of the mapping table: "<index> <name>", or why the category was dropped.
std::string TargetOf(const CategoryMapping& row, const LabelSpace& space) {
  if (row.class_index >= 0) {
    return std::to_string(row.class_index) + " " + space.names()[static_cast<size_t>(row.class_index)];
  }
  return row.annotations == 0 ? "dropped: unused" : "dropped: unknown";
}

}  // namespace

std::string FormatUnlabelledClasses(const std::vector<LabelMappingReport>& reports, const LabelSpace& space,
                                    size_t max_names) {
  std::string text;
  for (const LabelMappingReport& report : reports) {
    const std::vector<int32_t>& classes = report.unlabelled_classes;
    if (classes.empty()) continue;
    text += "  " + report.source + ": " + std::to_string(classes.size()) + " of " + std::to_string(space.size()) +
            " classes never labelled: ";
    for (size_t i = 0; i < classes.size() && i < max_names; ++i) {
      text += (i == 0 ? "" : ", ") + space.names()[static_cast<size_t>(classes[i])];
    }
    if (classes.size() > max_names) text += ", ... (" + std::to_string(classes.size() - max_names) + " more)";
    text += "\n";
  }
  return text;
}

std::string FormatMappingTable(const std::vector<LabelMappingReport>& reports, const LabelSpace& space) {
  std::string table = "source\tcategory\tid\tclass\tannotations\n";
  for (const LabelMappingReport& report : reports) {
    for (const CategoryMapping& row : report.rows) {
      table += report.source + "\t" + row.category + "\t" + std::to_string(row.id) + "\t" + TargetOf(row, space) +
               "\t" + std::to_string(row.annotations) + "\n";
    }
  }
  return table;
}

std::string FormatMappingChanges(const std::vector<LabelMappingReport>& reports, const LabelSpace& space) {
  int64_t rows = 0, same = 0;
  std::string changes;
  for (const LabelMappingReport& report : reports) {
    for (const CategoryMapping& row : report.rows) {
      ++rows;
      if (row.class_index >= 0 && space.names()[static_cast<size_t>(row.class_index)] == row.category) {
        ++same;
        continue;
      }
      changes += "  " + report.source + ": " + row.category + " (id " + std::to_string(row.id) + ", " +
                 std::to_string(row.annotations) + " annotations) -> " + TargetOf(row, space) + "\n";
    }
  }
  return "  " + std::to_string(same) + " of " + std::to_string(rows) +
         " source categories map to the class of the same name\n" + changes;
}

}  // namespace coco::data
