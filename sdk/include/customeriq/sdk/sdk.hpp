// Everything a plugin includes: #include <customeriq/sdk/sdk.hpp>
#pragma once

#include "customeriq/sdk/config.hpp"
#include "customeriq/sdk/event.hpp"
#include "customeriq/sdk/handler.hpp"
#include "customeriq/sdk/mutation.hpp"
#include "customeriq/sdk/plugin.hpp"
#include "customeriq/sdk/summarizer.hpp"
#include "customeriq/sdk/version.hpp"
