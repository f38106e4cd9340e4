#include <gtest/gtest.h>
#include "answer.hpp"
#include "harness.hpp"
using namespace tamis::grade;
TEST(plugins_grade_answer, Smoke) { EXPECT_TRUE(equivalent("\\frac12", "0.5").equal); }
