// Embedding crm from C++: compile a script, feed customers from memory (JSON), evaluate each one
// as of a date and print the actions. Usage: embed_cpp SCRIPT CUSTOMERS.json DATE
#include <crm/crm.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: " << argv[0] << " SCRIPT CUSTOMERS.json DATE\n";
    return 2;
  }
  std::ifstream in(argv[2]);
  std::stringstream customers;
  customers << in.rdbuf();
  try {
    crm::Store store = crm::Store::from_json(customers.str());
    crm::CompileOptions options;
    options.store = &store;  // its extra customer columns (here `plan`) are attributes
    crm::CompileResult compiled = crm::Script::compile_file(argv[1], options);
    if (!compiled.ok()) {
      for (const crm::Diagnostic& d : compiled.diagnostics)
        std::cerr << d.file << ":" << d.line << ":" << d.col << ": " << d.severity << ": " << d.message << "\n";
      return 1;
    }
    for (int64_t id = 1; id <= 3; ++id)
      for (const crm::Action& a : store.evaluate(*compiled.script, id, argv[3]))
        std::cout << "customer " << id << ": " << a.to_json() << "\n";
  } catch (const crm::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
