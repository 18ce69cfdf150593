#pragma once
// Reading switchyard-registrar's YAML into a RegistrarConfig (see
// registrar/config.hpp for the keys). Main thread, at start-up. Never
// throws: every error (syntax, wrong type, missing key, cross-key rule)
// comes back as a one-line config::ConfigError that names the key path, the
// value and what was expected, in the style of config/config.cpp, whose
// readers (config/readers.hpp) read the `nats` and `logging` sections and
// the document itself. Defined in config_parse.cpp and config_routes.cpp.
#include <string>
#include <variant>

#include "config/config.hpp"
#include "registrar/config.hpp"

namespace sy::registrar {

// Parses YAML text: exactly one document (an empty text is a config without
// routes, so an error). Never throws.
std::variant<RegistrarConfig, config::ConfigError> parse_registrar_config(const std::string& yaml_text);

// Reads and parses the file at `path`; errors are prefixed with
// `config file "<path>": `. Never throws.
std::variant<RegistrarConfig, config::ConfigError> load_registrar_config(const std::string& path);

}  // namespace sy::registrar
