# Finds Google's libphonenumber (Debian: libphonenumber-dev), which ships neither a CMake
# package config nor a pkg-config file. Defines PhoneNumber::PhoneNumber.
include(FindPackageHandleStandardArgs)

find_path(PhoneNumber_INCLUDE_DIR NAMES phonenumbers/phonenumberutil.h)
find_library(PhoneNumber_LIBRARY NAMES phonenumber)
find_package_handle_standard_args(PhoneNumber REQUIRED_VARS PhoneNumber_LIBRARY PhoneNumber_INCLUDE_DIR)
mark_as_advanced(PhoneNumber_INCLUDE_DIR PhoneNumber_LIBRARY)

if(PhoneNumber_FOUND AND NOT TARGET PhoneNumber::PhoneNumber)
  add_library(PhoneNumber::PhoneNumber UNKNOWN IMPORTED)
  set_target_properties(PhoneNumber::PhoneNumber PROPERTIES
    IMPORTED_LOCATION "${PhoneNumber_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${PhoneNumber_INCLUDE_DIR}")
endif()
