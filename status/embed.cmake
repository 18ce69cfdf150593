# Wraps status/dashboard_page.html into a C++ string (the dashboard is served
# from the binary: the machines that run it are often offline).
# cmake -DIN=page.html -DOUT=page.cpp -P embed.cmake
file(READ ${IN} content)
file(WRITE ${OUT} "// Generated from status/dashboard_page.html by status/embed.cmake.\n#include <string_view>\n\nnamespace sy::status {\nextern const std::string_view kDashboardPage;\nconst std::string_view kDashboardPage = R\"sydash(${content})sydash\";\n}  // namespace sy::status\n")
