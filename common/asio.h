// The one way project code includes Boost.Asio.
//
// Boost 1.74's Asio uses std::exchange without including <utility>, which g++ 12 in
// C++20 mode rejects; including <utility> first fixes it. Include this header, never
// <boost/asio.hpp> directly.
#pragma once

#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
