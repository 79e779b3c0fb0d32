#include "admission/render_command.h"

#include <yaml-cpp/yaml.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <regex>

#include "audit/manifest.h"
#include "base/flags.h"
#include "policy/admission.h"
#include "policy/parse.h"

namespace saguard::admission {
namespace {

using nlohmann::json;

// A string YAML would read as something else when written plain (a boolean, null, a
// number) or that is empty: double-quoted. yaml-cpp quotes on its own what is not a
// valid plain scalar at all (": ", a leading '{', ...).
bool needsQuotes(const std::string& s) {
  static const std::regex kOther(
      R"(^(|~|null|Null|NULL|true|True|TRUE|false|False|FALSE|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?|0x[0-9a-fA-F]+|0o?[0-7]+|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$)");
  return std::regex_match(s, kOther);
}

void emit(YAML::Emitter& out, const json& value) {
  switch (value.type()) {
    case json::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [key, item] : value.items()) {
        out << YAML::Key;
        if (needsQuotes(key)) out << YAML::DoubleQuoted;
        out << key << YAML::Value;
        emit(out, item);
      }
      out << YAML::EndMap;
      return;
    case json::value_t::array:
      out << YAML::BeginSeq;
      for (const json& item : value) emit(out, item);
      out << YAML::EndSeq;
      return;
    case json::value_t::string: {
      const auto& s = value.get_ref<const std::string&>();
      if (needsQuotes(s)) out << YAML::DoubleQuoted;
      out << s;
      return;
    }
    case json::value_t::boolean:
      out << value.get<bool>();
      return;
    case json::value_t::null:
      out << YAML::Null;
      return;
    default:
      out << value.dump();  // numbers
      return;
  }
}

}  // namespace

int runAdmission(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
                 std::ostream& err) {
  if (args.empty() || args[0] != "render") {
    err << "saguard admission: the one subcommand is render: saguard admission render -f "
           "FILE...\n";
    return 2;
  }
  std::vector<std::string> files;
  std::string selfNamespace = "saguard-system";
  bool mutating = false;
  FlagSet flags("saguard admission render -f FILE...",
                "Prints the admission objects saguard keeps for each ServiceAccountPolicy in the "
                "files\n(ValidatingAdmissionPolicy and its binding; with --mutating also the\n"
                "MutatingAdmissionPolicy and its binding), as YAML to commit instead of letting "
                "the\ncontroller write them.");
  flags.add("filename", &files, "A file or folder of ServiceAccountPolicies, or - (repeatable).");
  flags.alias('f', "filename");
  flags.add("namespace-self", &selfNamespace,
            "saguard's namespace: never matched unless a policy names it.");
  flags.add("mutating", &mutating,
            "Also print the MutatingAdmissionPolicy (admissionregistration.k8s.io/v1beta1, served\n"
            "with kube-apiserver's MutatingAdmissionPolicy feature gate).");
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  auto extra = flags.parse(rest);
  if (!extra.ok()) {
    err << "saguard admission render: " << extra.error().message << "\n\n" << flags.usage();
    return 2;
  }
  if (flags.helpRequested()) {
    out << flags.usage();
    return 0;
  }
  if (!extra->empty() || files.empty()) {
    err << "saguard admission render: give the policies with -f FILE (or -f - for stdin)\n\n"
        << flags.usage();
    return 2;
  }
  auto sources = audit::collectSources(files, in);
  if (!sources.ok()) {
    err << "saguard admission render: " << sources.error().message << "\n";
    return 2;
  }

  std::vector<policy::Policy> policies;
  int problems = 0;
  for (const audit::Source& source : *sources) {
    audit::ManifestSet set = audit::readManifests(source);
    for (const audit::ReadError& e : set.errors) {
      err << e.at.file << ":" << e.at.line << ":" << e.at.column << ": " << e.message << "\n";
      ++problems;
    }
    for (const audit::Document& doc : set.documents) {
      if (audit::scalarText(audit::child(doc.root, "kind")) != "ServiceAccountPolicy") continue;
      const audit::Location at = doc.at(doc.root);
      auto object = audit::toJson(doc.root);
      auto parsed =
          object.ok() ? policy::parsePolicy(*object) : Result<policy::Policy>(object.error());
      if (!parsed.ok()) {
        err << at.file << ":" << at.line << ": " << parsed.error().message << "\n";
        for (const ErrorCause& c : parsed.error().causes) {
          err << "  " << (c.field.empty() ? "" : c.field + ": ") << c.message << "\n";
        }
        ++problems;
        continue;
      }
      policies.push_back(std::move(*parsed));
    }
  }
  if (problems > 0) return 1;
  if (policies.empty()) {
    err << "saguard admission render: no ServiceAccountPolicy in the input\n";
    return 1;
  }

  policy::AdmissionContext context;
  context.selfNamespace = selfNamespace;
  context.mutatingServed = mutating;
  YAML::Emitter yaml;
  for (const policy::Policy& p : policies) {
    if (p.serviceAccounts.unboundOnly) {
      err << "saguard admission render: policy " << p.name
          << ": unboundOnly depends on the cluster's RBAC bindings, which a file does not show: "
             "rendered as if no binding named any account (the controller keeps that list "
             "current)\n";
    }
    if (p.serviceAccounts.unusedFor) {
      err << "saguard admission render: policy " << p.name
          << ": unusedFor depends on evidence of use, which a file does not hold: rendered "
             "selecting no account\n";
    }
    const policy::AdmissionPlan plan = policy::planAdmission(p, context);
    if (plan.objects.empty()) {
      err << "saguard admission render: policy " << p.name << ": admission None, nothing to keep\n";
    }
    if (mutating && !plan.noMutatingReason.empty()) {
      err << "saguard admission render: policy " << p.name
          << ": no MutatingAdmissionPolicy: " << plan.noMutatingReason << "\n";
    }
    for (const policy::AdmissionObject& o : plan.objects) {
      // Without the annotation that makes an object the controller's, so a controller
      // running beside the GitOps tool never rewrites or deletes the committed copy.
      json object = o.object;
      object["metadata"]["annotations"].erase(std::string(policy::kPolicyAnnotation));
      yaml << YAML::BeginDoc;
      emit(yaml, object);
    }
  }
  out << yaml.c_str() << "\n";
  return 0;
}

}  // namespace saguard::admission
